"""The two routes shipped beside dispute_case, driven through every branch in the engine alone (no
database): police_referral (110 非警务警情联调联处) and instruction (指令流转). The API tests drive the
same branches through registration, inboxes and timers."""
from __future__ import annotations

import json
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.engine import loader, runner
from app.engine.records import HumanTask
from app.forms import validate_submission

FILES = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "processes").iterdir()}
FORMS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (PROJECT_ROOT / "forms").glob("*.json")}
PARSED = {p.key: p for p in loader.parse_bundle(FILES, set(FORMS))}
REFERRAL = {"source": "police_110", "police_station": "城关派出所", "category": "neighbor", "risk_level": "low",
            "risk_factors": [], "urgency": "normal"}
INSTRUCTION = {"source": "centre", "deadline": "2026-12-10", "departments": ["labor", "property"], "urgency": "normal"}


class Case:
    """One workflow and the forms its tasks name: every completion is checked against its form first."""

    def __init__(self, key: str, data: dict[str, Any]) -> None:
        spec, subprocesses = loader.spec_from_json(PARSED[key].spec_json)
        self.workflow = runner.start(spec, subprocesses, data)

    def open(self) -> list[HumanTask]:
        return runner.ready_human_tasks(self.workflow)

    def names(self) -> list[tuple[str, str | None]]:
        return sorted((t.bpmn_id, t.group) for t in self.open())

    def work(self, name: str, data: dict[str, Any], group: str | None = None) -> list[tuple[str, str | None]]:
        [task] = [t for t in self.open() if t.bpmn_id == name and group in (None, t.group)]
        assert task.form_key is not None
        assert validate_submission(FORMS[task.form_key], data) == [], (name, data)
        runner.complete_task(self.workflow, task.id, data)
        return self.names()

    def data(self) -> dict[str, Any]:
        return runner.latest_data(self.workflow)


def _handled(note: str = "已到场调处", **extra: Any) -> dict[str, Any]:
    return {"handling_note": note, "risk_level": "low", **extra}


def _joint(group: str = "mediation", **extra: Any) -> dict[str, Any]:
    return {"participants": ["police", "justice"], "settled": False, "handling_note": "中心组织联调",
            "handling_group": group, "risk_level": "low", **extra}


def test_both_routes_are_case_types_whose_start_forms_declare_title_and_source() -> None:
    for key, form in (("police_referral", "police_referral.schema.json"), ("instruction", "instruction.schema.json")):
        assert PARSED[key].start_form == form
        assert {"title", "source"} <= set(FORMS[form]["required"])
    assert PARSED["instruction_department"].start_form is None  # only called


def test_a_referral_the_police_settle_goes_to_the_feedback_visit_and_closes_resolved() -> None:
    case = Case("police_referral", REFERRAL)
    assert case.names() == [("police_handle", "police")]
    [police] = case.open()
    assert (police.case_status, police.procedure, police.time_limit) == ("handling", "police_mediation", "P3D")
    assert case.work("police_handle", _handled(settled=True)) == [("feedback", "intake")]
    assert case.work("feedback", {"satisfied": True, "visit_method": "phone"}) == []
    assert runner.is_completed(case.workflow) and case.data()["outcome"] == "resolved"


def test_an_unsettled_referral_goes_to_joint_handling_then_the_responsible_department() -> None:
    case = Case("police_referral", {**REFERRAL, "category": "labor"})
    problems = validate_submission(FORMS["police_handle.schema.json"], _handled(settled=False))
    assert [e.field for e in problems] == ["transfer_reason"]  # an unsettled one says why it moves on
    after = case.work("police_handle", _handled(settled=False, transfer_reason="双方分歧大"))
    assert after == [("joint_handle", "joint")]
    [joint] = case.open()
    assert joint.data["suggested_group"] == "labor"  # the category table proposes the department
    assert (joint.procedure, joint.time_limit) == ("joint_mediation", "P7D")
    assert case.work("joint_handle", _joint("labor")) == [("follow_up", "labor")]
    [follow_up] = case.open()
    assert (follow_up.procedure, follow_up.time_limit) == ("department_follow_up", "P10D")
    after = case.work("follow_up", {"outcome": "referred", "follow_up_note": "引导申请劳动仲裁", "risk_level": "low"})
    assert after == [("feedback", "intake")]
    case.work("feedback", {"satisfied": True})
    assert runner.is_completed(case.workflow) and case.data()["outcome"] == "referred"


def test_a_high_risk_referral_opens_a_supervision_task_at_once_beside_the_police() -> None:
    case = Case("police_referral", {**REFERRAL, "risk_level": "high", "risk_factors": ["threats", "weapon"]})
    assert case.names() == [("police_handle", "police"), ("supervise_risk", "supervisor")]
    supervise = next(t for t in case.open() if t.bpmn_id == "supervise_risk")
    assert supervise.case_status is None and supervise.time_limit == "P1D"  # a side branch: the case is not moved
    # The police go on while the supervisor has not acted, and the risk staying high opens nothing more.
    assert case.work("police_handle", _handled(settled=False, transfer_reason="有激化可能", risk_level="high")) == [
        ("joint_handle", "joint"), ("supervise_risk", "supervisor")]
    after = case.work("supervise_risk", {"measures": ["stabilise", "patrol"], "instruction": "包案稳控，每日报告"})
    assert after == [("joint_handle", "joint")]


@pytest.mark.parametrize("raised_at", ["police_handle", "joint_handle", "follow_up"])
def test_a_risk_raised_to_high_at_any_handling_step_opens_supervision_once(raised_at: str) -> None:
    case = Case("police_referral", REFERRAL)
    steps = [("police_handle", _handled(settled=False, transfer_reason="未化解")), ("joint_handle", _joint()),
             ("follow_up", {"outcome": "controlled", "follow_up_note": "落实稳控", "risk_level": "low"})]
    supervised = []
    high = False
    for name, data in steps:
        high = high or name == raised_at
        case.work(name, {**data, "risk_level": "high" if high else "low"})
        supervised.append(sum(t.bpmn_id == "supervise_risk" for t in case.open()))
    first = [name for name, _ in steps].index(raised_at)
    assert supervised == [0] * first + [1] * (len(steps) - first)
    assert ("feedback", "intake") in case.names()


def test_an_unsatisfied_visit_reopens_joint_handling_once() -> None:
    case = Case("police_referral", REFERRAL)
    case.work("police_handle", _handled(settled=False, transfer_reason="未化解"))
    for _round in range(2):
        case.work("joint_handle", _joint(settled=_round == 1))
        case.work("follow_up", {"outcome": "resolved", "follow_up_note": "已化解", "risk_level": "low"})
        after = case.work("feedback", {"satisfied": False})
        assert after == ([("joint_handle", "joint")] if _round == 0 else [])
    assert runner.is_completed(case.workflow) and case.data()["reopen_count"] == 1


@pytest.mark.parametrize("late", ["police_handle", "joint_handle", "follow_up", "feedback"])
def test_an_overdue_step_of_a_referral_opens_supervision_beside_it(late: str) -> None:
    case = Case("police_referral", REFERRAL)
    steps = {"police_handle": _handled(settled=False, transfer_reason="未化解"), "joint_handle": _joint(),
             "follow_up": {"outcome": "resolved", "follow_up_note": "已化解", "risk_level": "low"}}
    for name, data in steps.items():
        if name == late:
            break
        case.work(name, data)
    [task] = case.open()
    runner.deliver_message(case.workflow, f"overdue_{late}", {"task": late, "task_id": task.id}, near=task.id)
    assert sorted(t.bpmn_id for t in case.open()) == sorted([late, "supervise"])


def test_an_instruction_opens_one_sign_for_task_per_department_due_at_the_deadline() -> None:
    case = Case("instruction", {**INSTRUCTION, "departments": ["labor", "property", "labor"]})
    assert case.names() == [("sign_instruction", "labor"), ("sign_instruction", "property")]
    for group in ("labor", "property"):
        case.work("sign_instruction", {"signed": True, "handler": "张科长"}, group)
    reports = case.open()
    assert sorted(t.group for t in reports) == ["labor", "property"]
    assert {(t.bpmn_id, t.time_limit, t.working_days, t.case_status) for t in reports} == {
        ("report_instruction", "2026-12-10", False, "handling")}
    assert validate_submission(FORMS["sign_instruction.schema.json"], {"signed": False}) != []


def test_a_returned_report_goes_back_to_that_department_only_and_the_case_closes_when_all_are_accepted() -> None:
    case = Case("instruction", INSTRUCTION)
    for group in ("labor", "property"):
        case.work("sign_instruction", {"signed": True}, group)
        case.work("report_instruction", {"report": "已约谈企业负责人"}, group)
    assert case.names() == [("review_report", "dispatch"), ("review_report", "dispatch")]
    review = next(t for t in case.open() if t.data["department"] == "property")
    assert validate_submission(FORMS["review_report.schema.json"], {"accepted": False}) != []  # a reason is required
    runner.complete_task(case.workflow, review.id, {"department": "property", "accepted": False,
                                                    "return_reason": "未说明整改时限"})
    assert case.names() == [("report_instruction", "property"), ("review_report", "dispatch")]
    labour = next(t for t in case.open() if t.bpmn_id == "review_report")
    runner.complete_task(case.workflow, labour.id, {"department": "labor", "accepted": True})
    assert case.names() == [("report_instruction", "property")] and not runner.is_completed(case.workflow)
    case.work("report_instruction", {"report": "整改于12月8日前完成", "completed_on": "2026-11-30"}, "property")
    case.work("review_report", {"department": "property", "accepted": True, "review_note": "同意办结"})
    assert runner.is_completed(case.workflow) and case.data()["instruction_result"] == "accepted"


@pytest.mark.parametrize("late", ["sign_instruction", "report_instruction"])
def test_an_overdue_department_task_opens_supervision_in_that_department_only(late: str) -> None:
    case = Case("instruction", INSTRUCTION)
    if late == "report_instruction":
        for group in ("labor", "property"):
            case.work("sign_instruction", {"signed": True}, group)
    property_task = next(t for t in case.open() if t.group == "property")
    runner.deliver_message(case.workflow, f"overdue_{late}", {"task": late, "task_id": property_task.id},
                           near=property_task.id)
    supervision = [t for t in case.open() if t.bpmn_id == "supervise"]
    assert [t.data["department"] for t in supervision] == ["property"]
    # The department finishing its work ends its supervision too (its instance ends).
    case.work(late, {"signed": True} if late == "sign_instruction" else {"report": "已办"}, "property")
    if late == "report_instruction":
        case.work("review_report", {"department": "property", "accepted": True})
        assert not [t for t in case.open() if t.bpmn_id == "supervise"]
