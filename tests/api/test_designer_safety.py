"""Designer safety (issue 14): one edited file validates and deploys alone, what it lacks taken from the
latest deployment; a case type keeps its start form; encodings, documentation models and DMN versions
are read as their files say. Each failure the issue lists is a test here, with the real files."""
from __future__ import annotations

import io
import re
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from tests.conftest import BUNDLE, Api

DATA = PROJECT_ROOT / "tests" / "data"
ROUTE = BUNDLE["dispute_case.bpmn"]


def _upload(files: dict[str, bytes]) -> dict[str, Any]:
    return {"data": {"files": [(io.BytesIO(content), name) for name, content in files.items()]},
            "content_type": "multipart/form-data"}


def _edited_route() -> bytes:
    return ROUTE.replace("交办".encode(), "分派".encode(), 1)


def test_one_edited_route_validates_alone_and_names_every_file_it_takes(api: Api) -> None:
    report = api.post("designer1", "/process-definitions/validate", **_upload({"dispute_case.bpmn": _edited_route()}))
    assert report["valid"] is True and report["errors"] == []
    taken = {w["file"] for w in report["warnings"] if "taken from the deployed" in w["message"]}
    # the 9 forms of the route (and their UI schemas), its decision, the called roadmap and what roadmap needs
    assert {"register_case.schema.json", "dispatch.schema.json", "dispatch.uischema.json", "routing.dmn",
            "roadmap.bpmn", "channels.dmn", "choose_channel.schema.json",
            "message_judicial_confirmation_decided.schema.json"} <= taken
    assert all("dispute_case v1" in w["message"] for w in report["warnings"] if w["file"] in taken)
    assert not any("not part of the deployment" in w["message"] for w in report["warnings"])


def test_one_edited_route_deploys_alone_as_a_new_version_of_that_route_only(api: Api) -> None:
    deployed = api.post("designer1", "/process-definitions", expect=201,
                        **_upload({"dispute_case.bpmn": _edited_route()}))
    assert [(d["key"], d["version"]) for d in deployed["definitions"]] == [("dispute_case", 2)]
    files = [f["name"] for f in api.get("designer1", "/process-definitions/dispute_case/2/resources")]
    assert "register_case.schema.json" in files and "roadmap.bpmn" in files  # the version stands on its own
    case = api.register(category="labor")
    task = api.get("dispatch1", f"/tasks/{api.task(case['id'], 'dispatch')['id']}")
    assert task["form"]["schema"]["properties"]["dispatch_note"]["title"] == "交办意见"


def test_a_route_deployed_without_its_registration_form_still_registers_cases(api: Api) -> None:
    # The failure: this deployment made every registration answer 404 from then on.
    files = {name: content for name, content in BUNDLE.items() if name != "register_case.schema.json"}
    files["dispatch.schema.json"] = files["dispatch.schema.json"].replace(
        "交办意见".encode(), "交办意见（三）".encode())
    deployed = api.post("designer1", "/process-definitions", expect=201, **_upload(files))
    assert ("dispute_case", 2) in [(d["key"], d["version"]) for d in deployed["definitions"]]
    case = api.register(category="labor")
    assert case["case_no"]
    task = api.get("dispatch1", f"/tasks/{api.task(case['id'], 'dispatch')['id']}")
    assert task["form"]["schema"]["properties"]["dispatch_note"]["title"] == "交办意见（三）"


def test_a_case_type_may_not_lose_its_start_form(api: Api) -> None:
    start_form = b'<spiffworkflow:property name="formJsonSchemaFilename" value="register_case.schema.json" />'
    assert start_form in ROUTE
    files = {"dispute_case.bpmn": ROUTE.replace(start_form, b"")}
    problem = api.post("designer1", "/process-definitions", expect=422, **_upload(files))
    [error] = [e for e in problem["errors"] if e["element_id"] == "dispute_case"]
    assert "case type" in error["message"] and "登记" in error["message"]
    assert [d["version"] for d in api.get("designer1", "/process-definitions") if d["key"] == "dispute_case"] == [1]
    api.register(category="labor")


def test_a_start_form_without_the_case_fields_is_refused(api: Api) -> None:
    form = BUNDLE["register_case.schema.json"].replace(b'"source"', b'"origin"')
    problem = api.post("designer1", "/process-definitions", expect=422,
                       **_upload({"dispute_case.bpmn": ROUTE, "register_case.schema.json": form}))
    [error] = problem["errors"]
    assert error["file"] == "register_case.schema.json" and error["element_id"] == "dispute_case"
    assert "source" in error["message"] and "title" not in error["message"].split("/")[-1].split("(")[0]


def test_a_form_found_nowhere_is_an_error_naming_it(api: Api) -> None:
    route = ROUTE.replace(b'value="dispatch.schema.json"', b'value="nowhere.schema.json"')
    report = api.post("designer1", "/process-definitions/validate", **_upload({"dispute_case.bpmn": route}))
    [error] = report["errors"]
    assert error["element_id"] == "dispatch" and "nowhere.schema.json" in error["message"]
    assert "neither in the upload nor in a deployed version" in error["message"]


def test_a_gbk_file_declaring_gbk_is_accepted_and_kept_as_utf8(api: Api, client: Any) -> None:
    text = _edited_route().decode("utf-8")
    assert 'encoding="UTF-8"' in text
    gbk = text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    deployed = api.post("designer1", "/process-definitions", expect=201, **_upload({"dispute_case.bpmn": gbk}))
    assert [(d["key"], d["version"]) for d in deployed["definitions"]] == [("dispute_case", 2)]
    stored = client.get("/api/v1/process-definitions/dispute_case/2/resources/dispute_case.bpmn",
                        headers=api.headers("designer1")).data
    assert stored.decode("utf-8") == text  # the declaration now says what the stored bytes are


def test_a_file_without_declaration_is_read_as_utf8(api: Api) -> None:
    text = _edited_route().decode("utf-8")
    undeclared = re.sub(r"^<\?xml[^>]*\?>", "", text).encode("gbk")
    report = api.post("designer1", "/process-definitions/validate", **_upload({"dispute_case.bpmn": undeclared}))
    error = report["errors"][0]
    assert error["file"] == "dispute_case.bpmn" and error["line"] > 1
    assert "declares no encoding" in error["message"] and "UTF-8" in error["message"]


@pytest.mark.parametrize("name", ["A.4.0.bpmn", "B.1.0.bpmn", "B.2.0.bpmn", "C.2.0.bpmn"])
def test_miwg_documentation_models_are_checked_as_bpmn_not_as_routes(api: Api, name: str) -> None:
    content = (DATA / "miwg" / name).read_bytes()
    report = api.post("designer1", "/process-definitions/validate", **_upload({name: content}))
    assert report["valid"] is True, report["errors"]
    if name == "B.1.0.bpmn":
        assert b"<semantic:timeDate/>" in content  # an empty timer: wrong in a route, fine in documentation


def test_a_broken_reference_in_a_documentation_model_is_still_refused(api: Api) -> None:
    content = (DATA / "miwg" / "B.1.0.bpmn").read_bytes()
    flow = re.search(rb'targetRef="([^"]+)"', content)
    assert flow
    broken = content.replace(flow.group(0), b'targetRef="nothing_here"', 1)
    report = api.post("designer1", "/process-definitions/validate", **_upload({"B.1.0.bpmn": broken}))
    assert report["valid"] is False and report["errors"][0]["file"] == "B.1.0.bpmn"


def test_an_unsupported_engine_construct_names_its_element_and_kind(api: Api) -> None:
    # A user task with two outgoing flows (the engine's text ended "not supported for tasks of type").
    route = ROUTE.replace(b'<bpmn:sequenceFlow id="f_unclassified"',
                          b'<bpmn:sequenceFlow id="f_extra" sourceRef="dispatch" targetRef="triage" />'
                          b'<bpmn:sequenceFlow id="f_unclassified"', 1)
    assert route != ROUTE
    report = api.post("designer1", "/process-definitions/validate", **_upload({"dispute_case.bpmn": route}))
    [error] = report["errors"]
    assert error["element_id"] == "dispatch"
    assert "for tasks of type <bpmn:userTask>" in error["message"] and " / " in error["message"]


def test_the_unchanged_route_alone_deploys_nothing_new(api: Api) -> None:
    # Completed from the latest deployment it is the very bundle deployed: no new version.
    again = api.post("designer1", "/process-definitions", expect=200, **_upload({"dispute_case.bpmn": ROUTE}))
    # (the shipped bundle holds more routes: the one uploaded is still the version deployed with them)
    assert [(d["key"], d["version"]) for d in again["definitions"]] == [("dispute_case", 1)]
