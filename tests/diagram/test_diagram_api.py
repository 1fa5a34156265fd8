"""The diagram endpoints: a case's route as it stands, a deployed version, and who may see them."""
from __future__ import annotations

from lxml import etree

from tests.conftest import Api


def _classes(svg_bytes: bytes) -> dict[str, str]:
    root = etree.fromstring(svg_bytes)
    return {g.get("data-element-id"): g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")
            if g.get("data-element-id")}


def test_case_diagram_marks_what_is_done_and_what_waits(api: Api) -> None:
    case = api.register(category="labor")
    response = api.client.get(f"/api/v1/cases/{case['id']}/diagram.svg", headers=api.headers("intake1"))
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    classes = _classes(response.data)
    assert classes["registered"] == "el startEvent done"
    assert classes["route_case"] == "el businessRuleTask done"
    assert classes["dispatch"] == "el userTask active"
    assert classes["f_start"] == "el sequenceFlow done"
    assert classes["triage"] == "el userTask"  # classified at registration: never visited

    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    classes = _classes(api.client.get(f"/api/v1/cases/{case['id']}/diagram.svg",
                                      headers=api.headers("labor1")).data)
    assert classes["dispatch"] == "el userTask done" and classes["sign_for"] == "el userTask active"


def test_case_diagram_is_404_for_those_who_may_not_see_the_case(api: Api) -> None:
    case = api.register(category="labor")
    assert api.client.get(f"/api/v1/cases/{case['id']}/diagram.svg",
                          headers=api.headers("family1")).status_code == 404
    assert api.client.get("/api/v1/cases/999/diagram.svg", headers=api.headers("admin1")).status_code == 404
    assert api.client.get(f"/api/v1/cases/{case['id']}/diagram.svg").status_code == 401


def test_definition_diagram_for_designers_and_supervisors(api: Api) -> None:
    response = api.client.get("/api/v1/process-definitions/dispute_case/1/diagram.svg",
                              headers=api.headers("designer1"))
    assert response.status_code == 200 and b"data-element-id=\"dispatch\"" in response.data
    assert "done" not in "".join(_classes(response.data).values())
    assert api.client.get("/api/v1/process-definitions/dispute_case/1/diagram.svg",
                          headers=api.headers("intake1")).status_code == 403
    assert api.client.get("/api/v1/process-definitions/dispute_case/9/diagram.svg",
                          headers=api.headers("designer1")).status_code == 404


def test_an_untaken_branch_between_two_reached_elements_is_not_drawn_as_taken(api: Api) -> None:
    """Unclassified at registration, the case went through triage to the merge: the gateway and the merge
    are both reached, yet the direct 已分类 flow between them was never taken."""
    case = api.register()
    api.work("intake1", case["id"], "triage", {"category": "neighbor", "risk_level": "low"})
    classes = _classes(api.client.get(f"/api/v1/cases/{case['id']}/diagram.svg",
                                      headers=api.headers("intake1")).data)
    assert classes["gw_classified"].endswith(" done") and classes["gw_triaged"].endswith(" done")
    assert classes["f_unclassified"] == "el sequenceFlow done"
    assert classes["f_classified"] == "el sequenceFlow"


def test_lanes_named_after_a_group_show_the_groups_name(api: Api) -> None:
    svg = api.client.get("/api/v1/process-definitions/dispute_case/1/diagram.svg",
                         headers=api.headers("designer1")).data
    root = etree.fromstring(svg)
    lane = next(g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-element-id") == "lane_dispatch")
    assert "分流调度" in "".join(lane.itertext()) and "dispatch" not in "".join(lane.itertext()).replace(
        "lane_dispatch", "")
