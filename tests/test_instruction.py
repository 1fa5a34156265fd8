"""instruction (指令流转) through the API, every branch: one task per department, signed for, acted on and
reported back by the deadline; the centre accepts or returns each report; the case closes when all are
accepted; an overdue department task escalates for that department only."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.services.kernel import timers
from tests.conftest import Api

INSTRUCTION = {"case_type": "instruction", "title": "开展欠薪隐患专项排查", "source": "superior",
               "description": "请于期限内排查辖区在建工地欠薪隐患并反馈。", "deadline": "2026-12-10",
               "departments": ["labor", "property"]}
USERS = {"labor": "labor1", "property": "property1", "mediation": "mediator1"}


def _issue(api: Api, **fields: Any) -> dict[str, Any]:
    return api.post("intake1", "/cases", 201, json={**INSTRUCTION, **fields})


def _open(api: Api, case_id: int, name: str) -> list[dict[str, Any]]:
    return [t for t in api.get("admin1", f"/cases/{case_id}")["active_tasks"] if t["name"] == name]


def _work(api: Api, case_id: int, name: str, group: str, data: dict[str, Any], expect: int = 200) -> Any:
    [task] = [t for t in _open(api, case_id, name) if t["group"] == group]
    user = USERS.get(group, "dispatch1")
    api.post(user, f"/tasks/{task['id']}/claim")
    return api.post(user, f"/tasks/{task['id']}/complete", expect, json={"data": data})


def _review(api: Api, case_id: int, department: str, data: dict[str, Any]) -> Any:
    """The centre reviews `department`'s report: its review form names the department (prefilled, fixed)."""
    reviews = {api.get("dispatch1", f"/tasks/{t['id']}")["data"]["department"]: t
               for t in _open(api, case_id, "review_report")}
    task = reviews[department]
    api.post("dispatch1", f"/tasks/{task['id']}/claim")
    return api.post("dispatch1", f"/tasks/{task['id']}/complete", json={"data": {"department": department, **data}})


def test_an_instruction_opens_one_sign_for_task_per_department(api: Api) -> None:
    case = _issue(api, departments=["labor", "property"])
    assert case["case_type"] == "instruction"
    assert sorted((t["name"], t["group"]) for t in case["active_tasks"]) == [
        ("sign_instruction", "labor"), ("sign_instruction", "property")]
    assert {t["due_at"] for t in case["active_tasks"]} == {"2026-12-03T00:00:00+08:00"}  # 1 working day
    assert api.get("admin1", f"/cases/{case['id']}")["status"] == "dispatched"
    labour_inbox = [t for t in api.get("labor1", "/tasks?scope=group")["items"] if t["case_id"] == case["id"]]
    assert [t["name"] for t in labour_inbox] == ["sign_instruction"]


def test_reports_are_due_at_the_deadline_and_a_returned_one_goes_back_to_its_department_only(api: Api) -> None:
    case = _issue(api)
    for group in ("labor", "property"):
        _work(api, case["id"], "sign_instruction", group, {"signed": False}, expect=422)
        _work(api, case["id"], "sign_instruction", group, {"signed": True, "handler": "王科长"})
    reports = _open(api, case["id"], "report_instruction")
    assert sorted(t["group"] for t in reports) == ["labor", "property"]
    assert {t["due_at"] for t in reports} == {"2026-12-11T00:00:00+08:00"}  # the end of the deadline day
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert detail["status"] == "handling"
    _work(api, case["id"], "report_instruction", "labor", {"report": "已排查工地12处，无欠薪隐患"})
    _work(api, case["id"], "report_instruction", "property", {"report": "已排查"})
    assert [t["group"] for t in _open(api, case["id"], "review_report")] == ["dispatch", "dispatch"]
    review = _review(api, case["id"], "property", {"accepted": False, "return_reason": "未列明排查的小区名单"})
    assert ("report_instruction", "property") in [(t["name"], t["group"]) for t in review["next_tasks"]]
    assert sorted((t["name"], t["group"]) for t in api.get("admin1", f"/cases/{case['id']}")["active_tasks"]) == [
        ("report_instruction", "property"), ("review_report", "dispatch")]
    _review(api, case["id"], "labor", {"accepted": True})
    assert api.get("admin1", f"/cases/{case['id']}")["status"] != "closed"
    _work(api, case["id"], "report_instruction", "property",
          {"report": "已排查小区8个，名单附后", "completed_on": "2026-12-01"})
    _review(api, case["id"], "property", {"accepted": True, "review_note": "同意"})
    closed = api.get("admin1", f"/cases/{case['id']}")
    assert closed["status"] == "closed" and closed["active_tasks"] == []


def test_a_review_that_returns_without_a_reason_is_refused(api: Api) -> None:
    case = _issue(api, departments=["mediation"])
    _work(api, case["id"], "sign_instruction", "mediation", {"signed": True})
    _work(api, case["id"], "report_instruction", "mediation", {"report": "已办"})
    [review] = _open(api, case["id"], "review_report")
    api.post("dispatch1", f"/tasks/{review['id']}/claim")
    problem = api.post("dispatch1", f"/tasks/{review['id']}/complete", 422,
                       json={"data": {"department": "mediation", "accepted": False}})
    assert [e["field"] for e in problem["errors"]] == ["return_reason"]
    # The department reviewed is the instance's own: it cannot be switched to another's.
    problem = api.post("dispatch1", f"/tasks/{review['id']}/complete", 422,
                       json={"data": {"department": "labor", "accepted": True}})
    assert [e["field"] for e in problem["errors"]] == ["department"]


def test_an_overdue_report_escalates_for_its_department_only(api: Api, frozen_clock: Any) -> None:
    case = _issue(api)
    for group in ("labor", "property"):
        _work(api, case["id"], "sign_instruction", group, {"signed": True})
    _work(api, case["id"], "report_instruction", "labor", {"report": "已按期反馈"})
    _review(api, case["id"], "labor", {"accepted": True})
    [late] = _open(api, case["id"], "report_instruction")
    assert late["group"] == "property"
    api.post("property1", f"/tasks/{late['id']}/claim")
    frozen_clock.set(datetime.fromisoformat(late["due_at"]) + timedelta(minutes=1))
    timers.run_once()
    supervise = [t for t in api.get("supervisor1", "/tasks?scope=group")["items"] if t["case_id"] == case["id"]]
    assert [t["name"] for t in supervise] == ["supervise"]
    api.post("supervisor1", f"/tasks/{supervise[0]['id']}/claim")
    api.post("supervisor1", f"/tasks/{supervise[0]['id']}/complete",
             json={"data": {"action": "list", "note": "逾期未反馈，挂牌督办"}})
    assert [t["escalation_level"] for t in _open(api, case["id"], "report_instruction")] == [3]
    listed = [n for n in api.get("property1", "/notifications")["items"] if n["kind"] == "listed"]
    assert listed and "挂牌督办" in listed[0]["message"]
    assert not [n for n in api.get("labor1", "/notifications")["items"] if n["kind"] == "listed"]


def test_an_overdue_review_opens_supervision_in_the_instance_of_that_report_only(api: Api, frozen_clock: Any) -> None:
    case = _issue(api)
    for group in ("labor", "property"):
        _work(api, case["id"], "sign_instruction", group, {"signed": True})
    _work(api, case["id"], "report_instruction", "labor", {"report": "已反馈"})  # reviewed within 2 working days
    frozen_clock.set(datetime.fromisoformat("2026-12-02T10:00:00+08:00"))
    _work(api, case["id"], "report_instruction", "property", {"report": "已反馈"})
    reviews = {api.get("dispatch1", f"/tasks/{t['id']}")["data"]["department"]: t
               for t in _open(api, case["id"], "review_report")}
    assert reviews["labor"]["due_at"] == "2026-12-04T00:00:00+08:00"
    assert reviews["property"]["due_at"] == "2026-12-05T00:00:00+08:00"
    # Both instances wait for overdue_review_report; only the late one's opens a supervision task.
    frozen_clock.set(datetime.fromisoformat(reviews["labor"]["due_at"]) + timedelta(minutes=1))
    timers.run_once()
    supervise = [t for t in api.get("supervisor1", "/tasks?scope=group")["items"] if t["case_id"] == case["id"]]
    assert [t["name"] for t in supervise] == ["supervise"]
    api.post("supervisor1", f"/tasks/{supervise[0]['id']}/claim")
    api.post("supervisor1", f"/tasks/{supervise[0]['id']}/complete",
             json={"data": {"action": "list", "note": "审核超期，挂牌督办"}})
    levels = {t["id"]: t["escalation_level"] for t in _open(api, case["id"], "review_report")}
    assert (levels[reviews["labor"]["id"]], levels[reviews["property"]["id"]]) == (3, 0)


def test_an_instruction_without_departments_or_deadline_is_refused(api: Api) -> None:
    body = {k: v for k, v in INSTRUCTION.items() if k != "deadline"}
    problem = api.post("intake1", "/cases", 422, json={**body, "departments": []})
    assert {e["field"] for e in problem["errors"]} == {"deadline", "departments"}
    problem = api.post("intake1", "/cases", 422, json={**INSTRUCTION, "deadline": "2226-12-10"})  # a typing error
    assert [e["field"] for e in problem["errors"]] == ["deadline"]
    for departments in (["nobody"], ["labor", "labor"]):  # a department that is none, or one named twice
        problem = api.post("intake1", "/cases", 422, json={**INSTRUCTION, "departments": departments})
        assert [e["field"].split("[")[0] for e in problem["errors"]] == ["departments"]


def test_both_shipped_routes_are_offered_as_case_types_with_their_start_forms(api: Api) -> None:
    types = {t["key"]: t for t in api.get("intake1", "/case-types")}
    assert {"dispute_case", "police_referral", "instruction"} <= set(types)
    assert "instruction_department" not in types  # only called, once per department
    instruction = types["instruction"]["form"]["schema"]
    assert instruction["properties"]["deadline"]["format"] == "date"
    assert types["police_referral"]["form"]["schema"]["properties"]["risk_level"]["title"] == "民转刑风险等级"
