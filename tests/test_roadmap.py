"""The rule-of-law roadmap: channels proposed by the table, the channel's statutory limit tracked,
outcomes reported back by messages, and the judicial-confirmation track."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.services.kernel import timers
from tests.conftest import Api

ROOM = {"labor": ("labor", "labor1"), "consumer": ("consumer", "consumer1")}


def _to_roadmap(api: Api, category: str, **handle: Any) -> dict[str, Any]:
    group, user = ROOM.get(category, ("mediation", "mediator1"))
    case = api.register(category=category)
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": group, "complexity": "general"})
    api.work(user, case["id"], "sign_for", {"accepted": True})
    api.work(user, case["id"], "handle", {"outcome": "mediation_failed", **handle})
    return case


def _choose(api: Api, case: dict[str, Any], channel: str, expect: int = 200, **extra: Any) -> Any:
    user = ROOM.get(case.get("category") or "", ("mediation", "mediator1"))[1]
    data = {"channel": channel, "parties_informed": True, **extra}
    return api.work(user, case["id"], "choose_channel", data, expect=expect)


@pytest.mark.parametrize("category, handle, allowed", [
    ("labor", {}, ["arbitration", "petition"]),
    ("land", {}, ["arbitration", "litigation", "petition"]),
    ("consumer", {}, ["complaint", "litigation", "petition"]),
    ("contract", {}, ["litigation", "petition"]),
    ("contract", {"public_body_act": True}, ["reconsideration", "adjudication", "litigation", "petition"]),
])
def test_the_channel_table_proposes_the_channels_each_case_may_take(api: Api, category: str,
                                                                     handle: dict[str, Any],
                                                                     allowed: list[str]) -> None:
    case = _to_roadmap(api, category, **handle)
    task = api.task(case["id"], "choose_channel")
    view = api.get("admin1", f"/tasks/{task['id']}")
    assert view["form"]["schema"]["properties"]["channel"]["enum"] == allowed
    assert view["data"]["channel"] == allowed[0]  # the most preferred is proposed


def test_choosing_a_channel_tracks_it_against_its_statutory_limit(api: Api) -> None:
    case = _to_roadmap(api, "labor")
    result = _choose(api, {**case, "category": "labor"}, "arbitration")
    [track] = result["next_tasks"]
    assert track["name"] == "track_channel" and track["group"] == "dispatch"
    assert track["due_at"] == "2027-02-05T00:00:00+08:00"  # 65 calendar days (5 to accept + 45 + 15)
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert (detail["status"], detail["procedure"]) == ("in_channel", "arbitration")
    assert detail["procedure_since"] == "2026-12-01T09:30:00+08:00"
    assert api.get("supervisor1", "/cases?procedure=arbitration")["total"] == 1


def test_the_market_regulators_complaint_limit_counts_working_days(api: Api) -> None:
    case = _to_roadmap(api, "consumer")
    [track] = _choose(api, {**case, "category": "consumer"}, "complaint")["next_tasks"]
    # 52 working days from Tuesday 1 December 2026: 22 left in December, then 30 in 2027, which has no
    # calendar yet (weekends only, so 1 January counts) -> end of Thursday 11 February, provisional.
    assert track["due_at"] == "2027-02-12T00:00:00+08:00" and track["due_provisional"] is True


def test_a_channel_the_table_does_not_allow_is_422_naming_the_allowed_ones(api: Api) -> None:
    case = _to_roadmap(api, "labor")
    problem = _choose(api, {**case, "category": "labor"}, "litigation", expect=422)
    [error] = problem["errors"]
    assert error["field"] == "channel" and error["message"] == "「法定渠道」此案只能选择：仲裁、信访"
    problem = api.work("labor1", case["id"], "choose_channel", {"channel": "arbitration", "parties_informed": False},
                       expect=422)
    assert [e["field"] for e in problem["errors"]] == ["parties_informed"]


@pytest.mark.parametrize("result", ["resolved", "rejected"])
def test_the_channel_reports_its_result_by_message_and_the_case_goes_to_feedback(api: Api, result: str) -> None:
    case = _to_roadmap(api, "contract")
    _choose(api, case, "litigation")
    message = {"name": "channel_result", "case_no": case["case_no"],
               "payload": {"channel": "litigation", "result": result, "document_no": "(2026)京0105民初123号"}}
    delivered = api.post("integration1", "/messages", json=message)
    assert [t["name"] for t in delivered["next_tasks"]] == ["feedback"]
    timeline = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    received = next(e for e in timeline if e["action"] == "message.received")
    assert received["actor"] == "integration1" and received["detail"]["payload"]["result"] == result
    again = api.post("integration1", "/messages", json=message, expect=409)
    assert "already delivered" in again["detail"]


def test_a_result_from_another_channel_than_the_cases_is_refused(api: Api) -> None:
    case = _to_roadmap(api, "contract")
    _choose(api, case, "litigation")
    message = {"name": "channel_result", "case_no": case["case_no"],
               "payload": {"channel": "arbitration", "result": "resolved", "document_no": "仲裁2026-1"}}
    problem = api.post("integration1", "/messages", json=message, expect=422)
    assert [e["field"] for e in problem["errors"]] == ["payload.channel"]
    assert "litigation" in problem["errors"][0]["message"]
    assert [t["name"] for t in api.get("admin1", f"/cases/{case['id']}")["active_tasks"]] == ["track_channel"]


def test_pending_results_keep_the_case_tracked(api: Api) -> None:
    case = _to_roadmap(api, "contract")
    _choose(api, case, "litigation")
    result = api.work("dispatch1", case["id"], "track_channel", {"channel_result": "pending", "result_note": "已立案"})
    assert [t["name"] for t in result["next_tasks"]] == ["track_channel"]
    result = api.work("dispatch1", case["id"], "track_channel", {"channel_result": "resolved"})
    assert [t["name"] for t in result["next_tasks"]] == ["feedback"]


def test_bad_messages_are_refused_and_change_nothing(api: Api) -> None:
    case = api.register(category="contract")
    body = {"name": "channel_result", "case_no": case["case_no"],
            "payload": {"channel": "litigation", "result": "resolved", "document_no": "X1"}}
    assert api.post("integration1", "/messages", json=body, expect=404)["detail"].endswith("is not waiting for "
                                                                                           "channel_result")
    api.post("integration1", "/messages", json={**body, "case_no": "ZZ-2099-999999"}, expect=404)
    unknown = api.post("integration1", "/messages", json={**body, "name": "pizza"}, expect=422)
    assert "channel_result" in unknown["detail"] and "judicial_confirmation_decided" in unknown["detail"]
    broken = api.post("integration1", "/messages", json={**body, "payload": {"result": "maybe"}}, expect=422)
    assert {"payload.result", "payload.channel", "payload.document_no"} <= {e["field"] for e in broken["errors"]}
    api.post("integration1", "/messages", json={"name": "channel_result"}, expect=422)
    api.post("mediator1", "/messages", json=body, expect=403)
    assert not [e for e in api.get("admin1", f"/cases/{case['id']}")["timeline"] if e["action"] == "message.received"]


def _to_confirmation(api: Api) -> dict[str, Any]:
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    result = api.work("mediator1", case["id"], "handle", {"outcome": "resolved", "apply_judicial_confirmation": True})
    assert [t["name"] for t in result["next_tasks"]] == ["apply_confirmation"]
    return case


@pytest.mark.parametrize("confirmed, next_task", [(True, "feedback"), (False, "choose_channel")])
def test_the_court_decides_judicial_confirmation_by_message(api: Api, confirmed: bool, next_task: str) -> None:
    case = _to_confirmation(api)
    result = api.work("mediator1", case["id"], "apply_confirmation",
                      {"applied": True, "court": "朝阳区人民法院", "application_date": "2026-12-01"})
    assert [t["name"] for t in result["next_tasks"]] == ["await_confirmation"]
    assert (result["case"]["procedure"], result["case"]["status"]) == ("judicial_confirmation", "handling")
    message = {"name": "judicial_confirmation_decided", "case_no": case["case_no"],
               "payload": {"confirmed": confirmed, "document_no": "(2026)京0105民特1号"}}
    delivered = api.post("dispatch1", "/messages", json=message)
    assert [t["name"] for t in delivered["next_tasks"]] == [next_task]
    # A refused agreement does not stand: the case is no longer counted as resolved.
    assert delivered["case"]["outcome"] == ("resolved" if confirmed else "mediation_failed")


def test_a_refusal_the_centre_records_by_hand_does_not_leave_the_case_resolved(api: Api) -> None:
    case = _to_confirmation(api)
    api.work("mediator1", case["id"], "apply_confirmation",
             {"applied": True, "court": "朝阳区人民法院", "application_date": "2026-12-01"})
    result = api.work("dispatch1", case["id"], "await_confirmation",
                      {"confirmed": False, "court_document": "(2026)京0105民特2号"})
    assert [t["name"] for t in result["next_tasks"]] == ["choose_channel"]
    assert result["case"]["outcome"] == "mediation_failed"


def test_the_30_day_window_for_applying_expires(api: Api, frozen_clock: Any) -> None:
    case = _to_confirmation(api)
    frozen_clock.advance(timedelta(days=29))
    timers.run_once()
    assert [t["name"] for t in api.get("admin1", f"/cases/{case['id']}")["active_tasks"]] == ["apply_confirmation"]
    frozen_clock.advance(timedelta(days=2))
    timers.run_once()
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert [t["name"] for t in detail["active_tasks"]] == ["feedback"]
    assert "timer.fired" in [e["action"] for e in detail["timeline"]]


def test_the_whole_journey_from_registration_to_closing_through_the_roadmap(api: Api) -> None:
    case = api.register()  # no category: triage first
    api.work("intake1", case["id"], "triage", {"category": "gig_labor"})
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    api.work("labor1", case["id"], "sign_for", {"accepted": True})
    api.work("labor1", case["id"], "handle", {"outcome": "mediation_refused"})
    _choose(api, {**case, "category": "labor"}, "arbitration", channel_note="已告知可申请劳动仲裁")
    api.post("integration1", "/messages", json={"name": "channel_result", "case_no": case["case_no"], "payload": {
        "channel": "arbitration", "result": "resolved", "document_no": "京劳人仲字〔2026〕第88号"}})
    closed = api.work("intake1", case["id"], "feedback", {"satisfied": True})
    assert closed["case"]["status"] == "closed"
    detail = api.get("admin1", f"/cases/{case['id']}")
    steps = [e["detail"].get("task") or e["detail"].get("name") for e in detail["timeline"]
             if e["action"] in ("task.completed", "message.received")]
    assert steps == ["triage", "dispatch", "sign_for", "handle", "choose_channel", "channel_result", "feedback"]


@pytest.mark.parametrize("category, handle, channel, due", [
    ("contract", {"public_body_act": True}, "reconsideration", "2027-03-02T00:00:00+08:00"),  # 60 + 30 days
    ("contract", {"public_body_act": True}, "adjudication", "2027-01-31T00:00:00+08:00"),  # 60 days
    ("land", {}, "arbitration", "2027-03-02T00:00:00+08:00"),  # 60 + 30 days
    ("contract", {}, "litigation", "2027-03-02T00:00:00+08:00"),  # simple procedure: 3 months
    ("contract", {}, "petition", "2027-03-02T00:00:00+08:00"),  # 15 to accept, 60 + 30 to handle
])
def test_every_channel_path_is_tracked_as_its_procedure(api: Api, category: str, handle: dict[str, Any],
                                                        channel: str, due: str) -> None:
    case = _to_roadmap(api, category, **handle)
    [track] = _choose(api, {**case, "category": category}, channel)["next_tasks"]
    assert track["due_at"] == due
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert (detail["status"], detail["procedure"]) == ("in_channel", channel)
    done = api.post("integration1", "/messages", json={"name": "channel_result", "case_no": case["case_no"],
                                                       "payload": {"channel": channel, "result": "resolved",
                                                                   "document_no": f"{channel}-1"}})
    assert [t["name"] for t in done["next_tasks"]] == ["feedback"]


def test_dates_after_today_are_refused_on_the_confirmation_form_and_message(api: Api) -> None:
    case = _to_confirmation(api)  # the clock stands at 2026-12-01 (Asia/Shanghai)
    problem = api.work("mediator1", case["id"], "apply_confirmation",
                       {"applied": True, "court": "朝阳区人民法院", "application_date": "2026-12-02"}, expect=422)
    assert [e["field"] for e in problem["errors"]] == ["application_date"]
    assert [t["name"] for t in api.get("admin1", f"/cases/{case['id']}")["active_tasks"]] == ["apply_confirmation"]
    api.work("mediator1", case["id"], "apply_confirmation",
             {"applied": True, "court": "朝阳区人民法院", "application_date": "2026-12-01"})
    message = {"name": "judicial_confirmation_decided", "case_no": case["case_no"],
               "payload": {"confirmed": True, "document_no": "(2026)京0105民特1号", "decided_on": "2026-12-24"}}
    problem = api.post("integration1", "/messages", json=message, expect=422)
    assert [e["field"] for e in problem["errors"]] == ["payload.decided_on"]
    message["payload"]["decided_on"] = "2026-11-30"
    assert [t["name"] for t in api.post("integration1", "/messages", json=message)["next_tasks"]] == ["feedback"]
