"""Case types: a process a designer deploys under its own key, with its own lanes, groups and forms, is
registered through POST /cases with `case_type` and worked to its end by the members of its groups."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import PASSWORD, Api

DATA = Path(__file__).parent.parent / "data" / "case_type"
STALL = {p.name: p.read_bytes() for p in sorted(DATA.iterdir())}
APPLICATION = {"case_type": "stall_permit", "title": "春节集市摆摊", "source": "grid", "category": "night_market",
               "stall_days": 7, "description": "东街夜市临时摊位七天"}


def upload(files: dict[str, bytes]) -> dict[str, Any]:
    from io import BytesIO
    return {"data": {"files": [(BytesIO(content), name) for name, content in files.items()]},
            "content_type": "multipart/form-data"}


def deploy_stall_permit(api: Api) -> None:
    """What an administrator and a designer do for a new case type: its groups and their members, then
    the diagram with its forms."""
    for key, name in (("market_review", "市场监管审核组"), ("street_patrol", "街面巡查组")):
        api.post("admin1", "/groups", 201, json={"key": key, "name": name, "kind": "department"})
    for username, group in (("reviewer1", "market_review"), ("patrol1", "street_patrol")):
        api.post("admin1", "/users", 201, json={"username": username, "display_name": username, "password": PASSWORD,
                                                 "roles": ["handler"], "groups": [group]})
    deployed = api.post("designer1", "/process-definitions", 201, **upload(STALL))
    assert [(d["key"], d["version"]) for d in deployed["definitions"]] == [("stall_permit", 1)]


def test_a_newly_deployed_process_is_a_case_type_worked_to_its_end_by_its_groups(api: Api) -> None:
    deploy_stall_permit(api)
    types = api.get("intake1", "/case-types")
    assert [(t["key"], t["name"], t["version"]) for t in types] == [
        ("dispute_case", "矛盾纠纷闭环流转", 1), ("instruction", "指令流转", 1),
        ("police_referral", "110非警务警情联调联处", 1), ("stall_permit", "摊位临时占道申请", 1)]
    stall = types[3]
    assert stall["form"]["schema"]["required"] == ["title", "source", "stall_days"]
    assert stall["form"]["ui_schema"]["ui:order"][0] == "title"

    case = api.post("intake1", "/cases", 201, json=APPLICATION)
    assert case["case_type"] == "stall_permit" and case["status"] == "registered"
    [review] = case["active_tasks"]
    assert (review["name"], review["group"], review["case_type"]) == ("review", "market_review", "stall_permit")
    assert review["due_at"] is not None  # its own time limit (P2D)

    # Only the members of the type's own groups see and complete its tasks.
    assert [t["case_no"] for t in api.get("reviewer1", "/tasks")["items"]] == [case["case_no"]]
    assert api.get("patrol1", "/tasks")["items"] == []
    api.post("patrol1", f"/tasks/{review['id']}/claim", 404)  # not theirs to see
    api.work("reviewer1", case["id"], "review", {"approved": True, "review_note": "同意"})
    [inspect] = api.get("patrol1", "/tasks")["items"]
    assert (inspect["name"], inspect["case_type"]) == ("inspect", "stall_permit")
    api.work("patrol1", case["id"], "inspect", {"inspection_note": "摊位整洁，未占盲道"})

    detail = api.get("admin1", f"/cases/{case['id']}")
    assert (detail["status"], detail["case_type"], detail["active_tasks"]) == ("closed", "stall_permit", [])
    assert detail["category"] == "night_market" and detail["parties"] == []
    registered = next(e for e in detail["timeline"] if e["action"] == "case.registered")
    assert registered["detail"]["process"] == "stall_permit:1"


def test_the_start_form_of_the_type_decides_what_is_accepted(api: Api) -> None:
    deploy_stall_permit(api)
    too_long = api.post("intake1", "/cases", 422, json={**APPLICATION, "stall_days": 120})
    assert [e["field"] for e in too_long["errors"]] == ["stall_days"]
    # The dispute form's fields are not this type's: parties are not asked for, stall_days is.
    missing = api.post("intake1", "/cases", 422, json={k: v for k, v in APPLICATION.items() if k != "stall_days"})
    assert [e["field"] for e in missing["errors"]] == ["stall_days"]
    # Without case_type a registration is a dispute case, as it always was.
    assert api.register()["case_type"] == "dispute_case"


def test_an_unknown_case_type_is_refused_naming_it(api: Api) -> None:
    problem = api.post("intake1", "/cases", 422, json={**APPLICATION, "case_type": "road_repair"})
    assert problem["status"] == 422 and problem["errors"][0]["field"] == "case_type"
    assert "road_repair" in problem["errors"][0]["message"]
    # A process that is only called (its start event names no form) is no case type either.
    assert "roadmap" not in [t["key"] for t in api.get("intake1", "/case-types")]
    called = api.post("intake1", "/cases", 422, json={**APPLICATION, "case_type": "roadmap"})
    assert called["errors"][0]["field"] == "case_type"
    for odd in (["stall_permit"], None, ""):
        refused = api.post("intake1", "/cases", 422, json={**APPLICATION, "case_type": odd})
        assert refused["errors"][0]["field"] == "case_type"


def test_cases_and_inbox_items_are_filtered_by_case_type(api: Api) -> None:
    deploy_stall_permit(api)
    dispute = api.register()
    stall = api.post("intake1", "/cases", 201, json=APPLICATION)
    listed = api.get("admin1", "/cases?case_type=stall_permit")
    assert [c["case_no"] for c in listed["items"]] == [stall["case_no"]]
    assert {c["case_type"] for c in api.get("admin1", "/cases")["items"]} == {"dispute_case", "stall_permit"}
    assert [c["case_no"] for c in api.get("admin1", "/cases?case_type=dispute_case")["items"]] == [dispute["case_no"]]
    everything = api.get("admin1", "/tasks?scope=all")["items"]
    assert {t["case_type"] for t in everything} == {"dispute_case", "stall_permit"}
    only = api.get("admin1", "/tasks?scope=all&case_type=stall_permit")["items"]
    assert [(t["case_no"], t["name"]) for t in only] == [(stall["case_no"], "review")]


def test_reports_group_by_case_type_and_the_exports_name_it(api: Api) -> None:
    import csv
    import io
    deploy_stall_permit(api)
    api.register()
    api.register(title="另一起纠纷")
    stall = api.post("intake1", "/cases", 201, json=APPLICATION)
    summary = api.get("supervisor1", "/reports/summary?group_by=case_type")
    assert {item["key"]: item["received"] for item in summary["items"]} == {"dispute_case": 2, "stall_permit": 1}
    assert summary["total"]["received"] == 3

    headers = api.headers("supervisor1")
    table = api.client.get("/api/v1/reports/summary.csv?group_by=case_type", headers=headers)
    rows = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig"))))
    assert rows[0][0] == "案件类型"
    assert {row[0]: row[1] for row in rows[1:]} == {
        "矛盾纠纷闭环流转 (dispute_case)": "2", "摊位临时占道申请 (stall_permit)": "1", "合计": "3"}
    daily = api.client.get("/api/v1/reports/daily.csv", headers=headers)
    lines = list(csv.reader(io.StringIO(daily.data.decode("utf-8-sig"))))
    header = next(row for row in lines if row and row[0] == "案件编号")
    assert header[1] == "案件类型"
    assert [stall["case_no"], "摊位临时占道申请"] in [row[:2] for row in lines]
