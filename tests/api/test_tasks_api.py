"""The inbox: scopes, claiming, handing over and completing, with the conflicts users can run into."""
from __future__ import annotations

import pytest

from tests.conftest import Api


def _dispatch_task(api: Api) -> tuple[dict, dict]:
    case = api.register(category="labor")
    return case, api.task(case["id"], "dispatch")


def test_group_inbox_shows_open_tasks_of_my_groups_only(api: Api) -> None:
    case, task = _dispatch_task(api)
    items = api.get("dispatch1", "/tasks?scope=group")["items"]
    assert [(t["id"], t["name"], t["title"], t["case_no"]) for t in items] == [
        (task["id"], "dispatch", "分流交办", case["case_no"])]
    assert items[0]["escalation_level"] == 0 and items[0]["form_key"] == "dispatch.schema.json"
    assert api.get("intake1", "/tasks?scope=group")["items"] == []
    api.get("dispatch1", f"/tasks/{task['id']}")
    api.get("intake1", f"/tasks/{task['id']}", expect=404)


def test_scope_all_is_for_supervisors(api: Api) -> None:
    _dispatch_task(api)
    assert api.get("supervisor1", "/tasks?scope=all")["total"] == 1
    api.get("dispatch1", "/tasks?scope=all", expect=403)
    api.get("dispatch1", "/tasks?scope=everything", expect=422)


def test_claim_puts_the_task_in_my_inbox_and_blocks_others(api: Api, app) -> None:
    from app.services.accounts import users

    users.upsert_user("dispatch2", "test-password-1", display_name="调度员二", roles=["handler"], groups=["dispatch"])
    _, task = _dispatch_task(api)
    api.post("dispatch1", f"/tasks/{task['id']}/claim")
    assert [t["id"] for t in api.get("dispatch1", "/tasks?scope=mine")["items"]] == [task["id"]]
    problem = api.post("dispatch2", f"/tasks/{task['id']}/claim", expect=409)
    assert "dispatch1" in problem["detail"]
    api.post("dispatch2", f"/tasks/{task['id']}/complete", expect=409, json={"data": {}})
    api.post("dispatch1", f"/tasks/{task['id']}/unclaim")
    api.post("dispatch2", f"/tasks/{task['id']}/claim")


def test_a_group_member_may_complete_an_unclaimed_task_and_it_records_who(api: Api) -> None:
    case, task = _dispatch_task(api)
    api.post("mediator1", f"/tasks/{task['id']}/complete", expect=404,
             json={"data": {"handling_group": "labor", "complexity": "general"}})
    api.post("supervisor1", f"/tasks/{task['id']}/complete", expect=403,
             json={"data": {"handling_group": "labor", "complexity": "general"}})
    api.post("dispatch1", f"/tasks/{task['id']}/complete",
             json={"data": {"handling_group": "labor", "complexity": "general"}})
    done = [e for e in api.get("admin1", f"/cases/{case['id']}")["timeline"] if e["action"] == "task.completed"]
    assert [(e["actor"], e["detail"]["task"]) for e in done] == [("dispatch1", "dispatch")]


def test_supervisor_assigns_to_a_group_member_only(api: Api) -> None:
    _, task = _dispatch_task(api)
    api.post("supervisor1", f"/tasks/{task['id']}/assign", json={"username": "mediator1"}, expect=422)
    api.post("supervisor1", f"/tasks/{task['id']}/assign", json={"username": "nobody"}, expect=422)
    assigned = api.post("supervisor1", f"/tasks/{task['id']}/assign", json={"username": "dispatch1"})
    assert assigned["assignee"] == "dispatch1"
    api.post("dispatch1", f"/tasks/{task['id']}/assign", json={"username": "dispatch1"}, expect=403)


def test_form_errors_are_422_per_field_and_change_nothing(api: Api) -> None:
    case, task = _dispatch_task(api)
    api.post("dispatch1", f"/tasks/{task['id']}/claim")
    problem = api.post("dispatch1", f"/tasks/{task['id']}/complete", expect=422, json={"data": {
        "handling_group": "astrology", "routing_override": "x", "__builtins__": {}}})
    fields = {e["field"] for e in problem["errors"]}
    assert {"handling_group", "complexity", "routing_override", "__builtins__"} <= fields
    assert api.task(case["id"], "dispatch")["id"] == task["id"]
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert not [e for e in detail["timeline"] if e["action"] == "task.completed"]


def test_return_without_reason_is_refused(api: Api) -> None:
    case, _ = _dispatch_task(api)
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    problem = api.work("labor1", case["id"], "sign_for", {"accepted": False}, expect=422)
    assert [e["field"] for e in problem["errors"]] == ["return_reason"]
    blank = api.work("labor1", case["id"], "sign_for", {"accepted": False, "return_reason": " \u3000 "}, expect=422)
    assert [(e["field"], e["message"]) for e in blank["errors"]] == [("return_reason", "「退回理由」不能为空")]
    assert api.task(case["id"], "sign_for")  # still waiting for a real reason


def test_completed_task_cannot_be_completed_again(api: Api) -> None:
    case, task = _dispatch_task(api)
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    problem = api.post("dispatch1", f"/tasks/{task['id']}/complete", expect=409,
                       json={"data": {"handling_group": "labor", "complexity": "general"}})
    assert problem["title"] == "Task is not open"
    api.post("dispatch1", f"/tasks/{task['id']}/claim", expect=409)


@pytest.mark.parametrize("category", [None, "labor"])
def test_a_forms_prefill_sent_back_as_it_came_is_accepted(api: Api, category: str | None) -> None:
    case = api.register(**({"category": category} if category else {}))
    first = "triage" if category is None else "dispatch"
    task = api.task(case["id"], first)
    prefill = api.get("admin1", f"/tasks/{task['id']}")["data"]
    assert None not in prefill.values()
    if first == "triage":
        api.work("intake1", case["id"], "triage", {**prefill, "category": "labor"})
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "simple"})
    api.work("labor1", case["id"], "sign_for", {"accepted": True})
    handle = api.task(case["id"], "handle")
    prefill = api.get("labor1", f"/tasks/{handle['id']}")["data"]
    assert None not in prefill.values()
    api.work("labor1", case["id"], "handle", {**prefill, "outcome": "resolved"})


def test_unknown_task_is_404(api: Api) -> None:
    api.get("dispatch1", "/tasks/00000000-0000-0000-0000-000000000000", expect=404)
    api.post("dispatch1", "/tasks/not-a-uuid/claim", expect=404)


def test_task_view_carries_form_schema_and_ui_schema(api: Api) -> None:
    _, task = _dispatch_task(api)
    view = api.get("dispatch1", f"/tasks/{task['id']}")
    assert view["form"]["schema"]["title"] == "分流交办"
    assert view["form"]["ui_schema"]["ui:order"][0] == "handling_group"
    assert view["data"] == {"handling_group": "labor", "complexity": "general"}


def test_a_step_the_diagram_fails_on_answers_500_keeps_nothing_and_goes_on_the_timeline(
        api: Api, unwalked_deploys: None) -> None:
    from app.config import PROJECT_ROOT
    from app.services.designer import deployments
    from tests.conftest import BUNDLE, OPERATOR

    timer = (PROJECT_ROOT / "tests" / "data" / "timer.bpmn").read_text(encoding="utf-8")
    broken = timer.replace(  # after "wait", a script that only fails when it runs
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:scriptTask id="share" name="Share" scriptFormat="python"><bpmn:incoming>f2</bpmn:incoming>'
        '<bpmn:outgoing>f5</bpmn:outgoing><bpmn:script>share = 100 / 0</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f5" sourceRef="share" targetRef="end" />').replace(
        '<bpmn:flowNodeRef>end</bpmn:flowNodeRef>', '<bpmn:flowNodeRef>share</bpmn:flowNodeRef><bpmn:flowNodeRef>end'
        '</bpmn:flowNodeRef>').replace('sourceRef="wait" targetRef="end"', 'sourceRef="wait" targetRef="share"')
    deployments.deploy(OPERATOR, {"timer.bpmn": broken.encode(),
                                  "register_case.schema.json": BUNDLE["register_case.schema.json"]})
    case = api.register()
    wait = api.task(case["id"], "wait")
    problem = api.post("dispatch1", f"/tasks/{wait['id']}/complete", json={}, expect=500)
    assert problem["title"] == "Process execution failed"
    assert "ZeroDivisionError" in problem["detail"] and "share" in problem["detail"]
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert [t["name"] for t in detail["active_tasks"]] == ["wait"]  # nothing of the step was kept
    [failed] = [e for e in detail["timeline"] if e["action"] == "task.failed"]
    assert failed["actor"] == "dispatch1" and failed["detail"]["task"] == "wait"
    assert "ZeroDivisionError" in failed["detail"]["error"]
    assert "task.completed" not in [e["action"] for e in detail["timeline"]]
