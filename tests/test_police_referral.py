"""police_referral (110 非警务警情联调联处) through the API, every branch: police first handling, the
centre's joint handling, the responsible department's follow-up, the feedback visit; a high 民转刑 risk
opening supervision at once; overdue steps escalating to the supervisors."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from app.services.kernel import timers
from tests.conftest import Api

REFERRAL = {"case_type": "police_referral", "title": "邻里停车纠纷引发口角", "source": "police_110",
            "external_id": "110-2026-120100042", "police_station": "城关派出所",
            "description": "双方因停车位争执，一方扬言报复。", "category": "neighbor", "risk_level": "low",
            "parties": [{"name": "张三", "role": "applicant", "phone": "13800138000"},
                        {"name": "李四", "role": "respondent"}]}
HANDLED = {"handling_note": "民警到场调处", "risk_level": "low"}
FOLLOWED = {"outcome": "resolved", "follow_up_note": "属事部门上门回访，双方达成车位约定", "risk_level": "low"}


def _refer(api: Api, **fields: Any) -> dict[str, Any]:
    return api.post("intake1", "/cases", 201, json={**REFERRAL, **fields})


def _names(api: Api, case_id: int) -> list[tuple[str, str]]:
    return sorted((t["name"], t["group"]) for t in api.get("admin1", f"/cases/{case_id}")["active_tasks"])


def _joint(group: str = "mediation", **extra: Any) -> dict[str, Any]:
    return {"participants": ["police", "justice", "mediation"], "settled": False,
            "handling_note": "中心组织公安、司法所联调", "handling_group": group, "risk_level": "low", **extra}


def test_a_referral_settled_by_the_police_is_visited_and_closed_as_resolved(api: Api) -> None:
    case = _refer(api)
    assert case["case_type"] == "police_referral" and case["external_id"] == "110-2026-120100042"
    [police] = case["active_tasks"]
    assert (police["name"], police["group"]) == ("police_handle", "police")
    assert police["due_at"] == "2026-12-05T00:00:00+08:00"  # 3 working days from Tuesday 1 December
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert (detail["status"], detail["procedure"]) == ("handling", "police_mediation")
    api.work("police1", case["id"], "police_handle", {**HANDLED, "settled": True})
    assert _names(api, case["id"]) == [("feedback", "intake")]
    api.work("intake1", case["id"], "feedback", {"satisfied": True, "visit_method": "phone"})
    closed = api.get("admin1", f"/cases/{case['id']}")
    assert (closed["status"], closed["outcome"], closed["satisfied"]) == ("closed", "resolved", True)


def test_an_unsettled_referral_goes_to_joint_handling_then_the_department_the_centre_chose(api: Api) -> None:
    case = _refer(api, category="labor", external_id="110-2026-120100043")
    api.work("police1", case["id"], "police_handle", {**HANDLED, "settled": False}, expect=422)  # no reason
    api.work("police1", case["id"], "police_handle", {**HANDLED, "settled": False, "transfer_reason": "涉及欠薪"})
    joint = api.task(case["id"], "joint_handle")
    assert joint["group"] == "joint"
    view = api.get("joint1", f"/tasks/{joint['id']}")
    assert view["data"]["handling_group"] == "labor"  # proposed by the category table
    api.work("joint1", case["id"], "joint_handle", _joint("labor"))
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert (detail["procedure"], detail["handling_group"]) == ("department_follow_up", "labor")
    assert _names(api, case["id"]) == [("follow_up", "labor")]
    api.work("labor1", case["id"], "follow_up", {**FOLLOWED, "outcome": "referred"})
    api.work("intake1", case["id"], "feedback", {"satisfied": True})
    closed = api.get("admin1", f"/cases/{case['id']}")
    assert (closed["status"], closed["outcome"]) == ("closed", "referred")


def test_an_unsatisfied_visit_reopens_joint_handling_once(api: Api) -> None:
    case = _refer(api, external_id="110-2026-120100044")
    api.work("police1", case["id"], "police_handle", {**HANDLED, "settled": False, "transfer_reason": "未化解"})
    for visit in range(2):
        api.work("joint1", case["id"], "joint_handle", _joint(settled=visit == 1))
        api.work("mediator1", case["id"], "follow_up", FOLLOWED)
        api.work("intake1", case["id"], "feedback", {"satisfied": False})
        assert _names(api, case["id"]) == ([("joint_handle", "joint")] if visit == 0 else [])
    closed = api.get("admin1", f"/cases/{case['id']}")
    assert (closed["status"], closed["reopen_count"], closed["satisfied"]) == ("closed", 1, False)


def test_a_high_risk_referral_opens_risk_supervision_at_once_and_the_police_go_on(api: Api) -> None:
    case = _refer(api, risk_level="high", risk_factors=["threats", "weapon"], external_id="110-2026-120100045")
    assert sorted(t["name"] for t in case["active_tasks"]) == ["police_handle", "supervise_risk"]
    assert api.get("admin1", f"/cases/{case['id']}")["risk_level"] == "high"
    inbox = [t for t in api.get("supervisor1", "/tasks?scope=group")["items"] if t["case_id"] == case["id"]]
    assert [(t["name"], t["title"]) for t in inbox] == [("supervise_risk", "民转刑风险督办")]
    api.work("police1", case["id"], "police_handle", {**HANDLED, "settled": False, "transfer_reason": "有激化可能",
                                                      "risk_level": "high"})
    assert _names(api, case["id"]) == [("joint_handle", "joint"), ("supervise_risk", "supervisor")]
    api.work("supervisor1", case["id"], "supervise_risk", {"measures": []}, expect=422)
    api.work("supervisor1", case["id"], "supervise_risk", {"measures": ["stabilise", "patrol"],
                                                           "instruction": "包案稳控，每日报告动态"})
    assert _names(api, case["id"]) == [("joint_handle", "joint")]
    timeline = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    done = [e for e in timeline if e["action"] == "task.completed" and e["detail"]["task"] == "supervise_risk"]
    assert done and done[0]["actor"] == "supervisor1"


@pytest.mark.parametrize("raised_at", ["police_handle", "joint_handle", "follow_up"])
def test_a_risk_raised_at_a_handling_step_opens_risk_supervision_once(api: Api, raised_at: str) -> None:
    case = _refer(api, external_id=f"110-2026-{raised_at}")
    steps = [("police1", "police_handle", {**HANDLED, "settled": False, "transfer_reason": "未化解"}),
             ("joint1", "joint_handle", _joint()), ("mediator1", "follow_up", FOLLOWED)]
    high = False
    for user, name, data in steps:
        high = high or name == raised_at
        api.work(user, case["id"], name, {**data, "risk_level": "high" if high else "low"})
        opened = [n for n, _ in _names(api, case["id"]) if n == "supervise_risk"]
        assert len(opened) == (1 if high else 0), name
    assert api.get("admin1", f"/cases/{case['id']}")["risk_level"] == "high"


@pytest.mark.parametrize("late, user", [("police_handle", "police1"), ("joint_handle", "joint1"),
                                        ("follow_up", "mediator1"), ("feedback", "intake1")])
def test_an_overdue_step_opens_supervision_and_the_supervisor_urges_its_handler(api: Api, frozen_clock: Any,
                                                                                 late: str, user: str) -> None:
    case = _refer(api, external_id=f"110-2026-late-{late}")
    steps = [("police1", "police_handle", {**HANDLED, "settled": False, "transfer_reason": "未化解"}),
             ("joint1", "joint_handle", _joint()), ("mediator1", "follow_up", FOLLOWED)]
    for step_user, name, data in steps:
        if name == late:
            break
        api.work(step_user, case["id"], name, data)
    watched = api.task(case["id"], late)
    api.post(user, f"/tasks/{watched['id']}/claim")
    frozen_clock.set(datetime.fromisoformat(watched["due_at"]) + timedelta(minutes=1))
    timers.run_once()
    supervise = [t for t in api.get("supervisor1", "/tasks?scope=group")["items"] if t["case_id"] == case["id"]]
    assert [t["name"] for t in supervise] == ["supervise"]
    api.work("supervisor1", case["id"], "supervise", {"action": "urge", "note": "请今日内办结"})
    urged = [n for n in api.get(user, "/notifications")["items"] if n["kind"] == "urge"]
    assert urged and "请今日内办结" in urged[0]["message"]
    assert api.task(case["id"], late)["escalation_level"] == 2


def test_a_referral_without_its_incident_number_or_risk_is_refused(api: Api) -> None:
    body = {k: v for k, v in REFERRAL.items() if k not in ("external_id", "risk_level")}
    problem = api.post("intake1", "/cases", 422, json=body)
    assert {e["field"] for e in problem["errors"]} == {"external_id", "risk_level"}
