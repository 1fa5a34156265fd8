"""The dry run: validate and deploy walk every path of each case type in memory, with form data generated
from its forms, and refuse a version whose expression raises on a reachable path (issue 14: a script
calling `print`, or a condition on an undefined variable, deployed fine and then failed every case)."""
from __future__ import annotations

import io
from typing import Any

from tests.conftest import BUNDLE, Api

ROUTE = BUNDLE["dispute_case.bpmn"]
FAILED = b'outcome in ("mediation_failed", "mediation_refused")'


def _upload(files: dict[str, bytes]) -> dict[str, Any]:
    return {"data": {"files": [(io.BytesIO(content), name) for name, content in files.items()]},
            "content_type": "multipart/form-data"}


def _planted(old: bytes, new: bytes) -> dict[str, bytes]:
    assert old in ROUTE, old
    return {"dispute_case.bpmn": ROUTE.replace(old, new, 1)}


def test_the_shipped_route_walks_every_element_without_problems(api: Api) -> None:
    run = api.post("designer1", "/process-definitions/dry-run", **_upload(BUNDLE))
    assert run["problems"] == [] and run["paths"] > 10
    assert run["coverage"]["reached"] == run["coverage"]["elements"]
    assert "dispute_case:triage" in run["coverage"]["elements"]  # reached only by a case without category
    assert "dispute_case:record_court_decision" in run["coverage"]["reached"]  # only by the court's message
    # every case type is walked; roadmap and instruction_department are only called (walked from their callers)
    assert [p["key"] for p in run["processes"]] == ["dispute_case", "instruction", "police_referral"]


def test_a_name_error_only_one_enum_value_reaches_is_found_and_refuses_the_deploy(api: Api) -> None:
    # Only outcome == "mediation_refused" evaluates the undefined name; every other value passes.
    files = _planted(FAILED, b'outcome == "mediation_failed" or (outcome == "mediation_refused" and refusal_reason)')
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    assert report["valid"] is False
    [problem] = report["dry_run"]["problems"]
    assert problem["element_id"] == "gw_outcome" and problem["file"] == "dispute_case.bpmn"
    assert "NameError" in problem["message"] and "refusal_reason" in problem["message"]
    assert "outcome=mediation_refused" in problem["message"]  # the path that reaches it
    assert report["errors"] == [problem]
    refused = api.post("designer1", "/process-definitions", expect=422, **_upload(files))
    assert [e["element_id"] for e in refused["errors"]] == ["gw_outcome"]
    assert [d["version"] for d in api.get("designer1", "/process-definitions") if d["key"] == "dispute_case"] == [1]


def test_an_error_on_the_path_a_message_opens_is_found(api: Api) -> None:
    files = _planted(b'confirmed = bool(court_decision.get("confirmed"))',
                     b'confirmed = bool(court_ruling.get("confirmed"))')
    run = api.post("designer1", "/process-definitions/dry-run", **_upload(files))
    assert [(p["element_id"], "court_ruling" in p["message"]) for p in run["problems"]] == [
        ("record_court_decision", True)]


def test_a_print_in_a_script_is_refused_at_deploy(api: Api) -> None:
    files = _planted(b"<bpmn:script>reopen_count = reopen_count + 1</bpmn:script>",
                     b"<bpmn:script>print(reopen_count)\nreopen_count = reopen_count + 1</bpmn:script>")
    problem = api.post("designer1", "/process-definitions", expect=422, **_upload(files))
    [error] = problem["errors"]
    assert error["element_id"] == "reopen_case" and "'print' is not available" in error["message"]


def test_a_user_task_without_a_time_limit_is_a_warning(api: Api) -> None:
    limit = b'<spiffworkflow:property name="timeLimit" value="&quot;P1D&quot;" /></spiffworkflow:properties>' \
            b'</bpmn:extensionElements><bpmn:incoming>f_supervise'
    files = _planted(limit, limit.replace(b'<spiffworkflow:property name="timeLimit" value="&quot;P1D&quot;" />', b""))
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    assert report["valid"] is True
    assert [w["element_id"] for w in report["warnings"] if "time limit" in w["message"]] == ["supervise"]


def test_an_element_no_path_reaches_is_a_warning(api: Api) -> None:
    # A condition no generated submission satisfies: its branch's task is never reached.
    files = _planted(b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">accepted</bpmn:conditionExpression>',
                     b'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">accepted and False'
                     b'</bpmn:conditionExpression>')
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    unreached = {w["element_id"] for w in report["warnings"] if "no path of the dry run" in w["message"]}
    assert "handle" in unreached and "sign_for" not in unreached


def test_deploy_answers_with_its_dry_run(api: Api) -> None:
    files = _planted("交办".encode(), "分派".encode())
    deployed = api.post("designer1", "/process-definitions", expect=201, **_upload(files))
    assert deployed["dry_run"]["paths"] > 10 and deployed["dry_run"]["problems"] == []
    assert any("taken from the deployed" in w["message"] for w in deployed["warnings"])
