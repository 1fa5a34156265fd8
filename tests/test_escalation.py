"""The escalation ladder driven by moving the clock: due dates in working days, warning, overdue with a
supervision task and a reminder, listed supervision, urging, and timers that stop when the work is done."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from app.services.kernel import timers
from tests.conftest import Api

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def fire(frozen_clock: Any, when: datetime) -> timers.PassReport:
    frozen_clock.set(when)
    return timers.run_once()


def _task(api: Api, case_id: int, name: str) -> dict[str, Any]:
    return next(t for t in api.get("supervisor1", "/tasks?scope=all")["items"]
                if t["case_id"] == case_id and t["name"] == name)


def _to_sign_for(api: Api, group: str = "mediation", complexity: str = "general") -> dict[str, Any]:
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": group, "complexity": complexity})
    return case


def test_due_dates_count_working_days_from_registration(api: Api) -> None:
    case = api.register(category="labor")  # Tuesday 1 December 2026, 09:30
    dispatch = api.task(case["id"], "dispatch")
    assert dispatch["due_at"] == "2026-12-03T00:00:00+08:00" and dispatch["due_provisional"] is False


@pytest.mark.parametrize("group, complexity, due", [
    ("mediation", "simple", "2026-12-03T00:00:00+08:00"),
    ("mediation", "general", "2026-12-11T00:00:00+08:00"),
    ("mediation", "complex", "2026-12-30T00:00:00+08:00"),
    ("labor", "general", "2026-12-17T00:00:00+08:00"),  # labour mediation: 15 calendar days
])
def test_handling_limit_depends_on_complexity_and_room(api: Api, group: str, complexity: str, due: str) -> None:
    case = _to_sign_for(api, group, complexity)
    user = {"mediation": "mediator1", "labor": "labor1"}[group]
    api.work(user, case["id"], "sign_for", {"accepted": True})
    assert api.task(case["id"], "handle")["due_at"] == due


def test_dispatch_climbs_the_whole_ladder_while_nobody_acts(api: Api, frozen_clock: Any) -> None:
    case = api.register(category="labor")  # dispatch due Thursday 3 December 00:00
    assert fire(frozen_clock, at(2026, 12, 2, 12)).fired == 0
    assert _task(api, case["id"], "dispatch")["escalation_level"] == 0
    fire(frozen_clock, at(2026, 12, 2, 17))  # past 80% of the working time
    assert _task(api, case["id"], "dispatch")["escalation_level"] == 1
    assert api.get("supervisor1", "/escalations")["items"][0]["case_no"] == case["case_no"]
    fire(frozen_clock, at(2026, 12, 3, 0, 1))
    dispatch = _task(api, case["id"], "dispatch")
    assert dispatch["escalation_level"] == 2
    reminders = api.get("dispatch1", "/notifications")["items"]
    assert reminders[0]["kind"] == "reminder" and case["case_no"] in reminders[0]["message"]
    fire(frozen_clock, at(2026, 12, 3, 19))  # 150% of 38.5 working hours is Thursday 19:15
    assert _task(api, case["id"], "dispatch")["escalation_level"] == 2
    fire(frozen_clock, at(2026, 12, 3, 20))
    assert _task(api, case["id"], "dispatch")["escalation_level"] == 3
    board = api.get("supervisor1", "/escalations?level=3")["items"]
    assert [t["id"] for t in board] == [dispatch["id"]] and board[0]["overdue_seconds"] == 20 * 3600
    entries = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    timeline = [e["action"] for e in entries]
    assert [a for a in timeline if a.startswith("task.") and a != "task.opened"] == [
        "task.warning", "task.overdue", "task.listed"]
    overdue = next(e for e in entries if e["action"] == "task.overdue")
    assert overdue["detail"]["due_at"] == dispatch["due_at"] and overdue["detail"]["due_at"].endswith("+08:00")


@pytest.mark.parametrize("node", ["sign_for", "handle", "feedback"])
def test_overdue_node_opens_a_supervision_task_for_the_supervisors(api: Api, frozen_clock: Any, node: str) -> None:
    case = _to_sign_for(api, complexity="simple")
    if node in ("handle", "feedback"):
        api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    if node == "feedback":
        api.work("mediator1", case["id"], "handle", {"outcome": "resolved"})
    watched = _task(api, case["id"], node)
    due = datetime.fromisoformat(watched["due_at"])
    fire(frozen_clock, due + timedelta(minutes=1))
    supervise = [t for t in api.get("supervisor1", "/tasks?scope=group")["items"] if t["case_id"] == case["id"]]
    assert [t["name"] for t in supervise] == ["supervise"] and supervise[0]["title"] == "督办"
    assert _task(api, case["id"], node)["escalation_level"] == 2  # the handler keeps working meanwhile
    assert api.get("supervisor1", f"/tasks/{supervise[0]['id']}")["data"] == {}


def test_supervision_task_can_list_the_late_node(api: Api, frozen_clock: Any) -> None:
    case = _to_sign_for(api)
    sign_for = _task(api, case["id"], "sign_for")
    fire(frozen_clock, datetime.fromisoformat(sign_for["due_at"]) + timedelta(hours=1))
    supervise = next(t for t in api.get("supervisor1", "/tasks?scope=group")["items"] if t["name"] == "supervise")
    api.post("supervisor1", f"/tasks/{supervise['id']}/claim")
    api.post("supervisor1", f"/tasks/{supervise['id']}/complete", json={"data": {
        "action": "list", "note": "三日内书面说明未签收原因"}})
    assert _task(api, case["id"], "sign_for")["escalation_level"] == 3
    notes = api.get("mediator1", "/notifications")["items"]
    assert notes[0]["kind"] == "listed" and "三日内书面说明" in notes[0]["message"]
    # Supervising a case is not handling it: its parties stay masked for the supervisor.
    seen = api.get("supervisor1", f"/cases/{case['id']}")
    assert seen["personal_data_masked"] is True and seen["parties"][0]["phone"] == "138****8000"


def test_supervisor_urges_a_late_task_and_the_handler_sees_it(api: Api, frozen_clock: Any) -> None:
    case = _to_sign_for(api)
    sign_for = _task(api, case["id"], "sign_for")
    api.post("mediator1", f"/tasks/{sign_for['id']}/claim")
    api.post("supervisor1", f"/tasks/{sign_for['id']}/urge", json={"note": "请尽快签收"}, expect=409)
    fire(frozen_clock, datetime.fromisoformat(sign_for["due_at"]) - timedelta(hours=2))
    api.post("mediator1", f"/tasks/{sign_for['id']}/urge", json={"note": "x"}, expect=403)
    api.post("supervisor1", f"/tasks/{sign_for['id']}/urge", json={}, expect=422)
    api.post("supervisor1", f"/tasks/{sign_for['id']}/urge", json={"note": "请尽快签收"})
    [note] = [n for n in api.get("mediator1", "/notifications")["items"] if n["kind"] == "urge"]
    assert note["recipient"] == "mediator1" and "请尽快签收" in note["message"]
    assert any(e["action"] == "task.urged" for e in api.get("admin1", f"/cases/{case['id']}")["timeline"])


def test_completing_the_task_cancels_its_pending_rungs(api: Api, frozen_clock: Any) -> None:
    case = api.register(category="labor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    report = fire(frozen_clock, at(2026, 12, 3, 12))  # dispatch's rungs would all be due by now
    assert api.get("supervisor1", "/escalations")["items"][0]["name"] == "sign_for"
    ladder = [(e["action"], e["detail"]["task"]) for e in api.get("admin1", f"/cases/{case['id']}")["timeline"]
              if e["action"] in ("task.warning", "task.overdue", "task.listed")]
    assert ladder == [("task.warning", "sign_for"), ("task.overdue", "sign_for")]
    assert report.fired == 2


def test_listing_twice_is_409_and_notes_have_a_limit(api: Api, frozen_clock: Any) -> None:
    case = _to_sign_for(api)
    sign_for = _task(api, case["id"], "sign_for")
    fire(frozen_clock, datetime.fromisoformat(sign_for["due_at"]) + timedelta(hours=1))
    long = api.post("supervisor1", f"/tasks/{sign_for['id']}/urge", json={"note": "催" * 2001}, expect=422)
    assert [e["field"] for e in long["errors"]] == ["note"]
    assert [e["field"] for e in api.post("supervisor1", f"/tasks/{sign_for['id']}/list", json={},
                                         expect=422)["errors"]] == ["note"]
    api.post("supervisor1", f"/tasks/{sign_for['id']}/list", json={"note": "挂牌"})
    again = api.post("supervisor1", f"/tasks/{sign_for['id']}/list", json={"note": "再挂牌"}, expect=409)
    assert "already" in again["detail"]
    listed = [n for n in api.get("mediator1", "/notifications")["items"] if n["kind"] == "listed"]
    assert len(listed) == 1


def test_urging_a_closed_task_is_409(api: Api) -> None:
    case = api.register(category="labor")
    dispatch = api.task(case["id"], "dispatch")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    api.post("supervisor1", f"/tasks/{dispatch['id']}/urge", json={"note": "催"}, expect=409)
    api.post("supervisor1", "/tasks/00000000-0000-0000-0000-000000000000/urge", json={"note": "催"}, expect=404)


def test_timers_due_while_the_service_was_down_fire_on_the_first_pass(api: Api, app: Any,
                                                                      frozen_clock: Any) -> None:
    from app import create_app

    case = api.register(category="labor")
    frozen_clock.set(at(2026, 12, 7, 9))  # the service was down for the whole ladder
    create_app(dict(app.config))  # a restart: fresh process state, same database
    report = timers.run_once()
    assert report.fired == 3
    assert _task(api, case["id"], "dispatch")["escalation_level"] == 3
    assert timers.run_once().fired == 0  # each fired once


def test_a_timer_that_keeps_failing_becomes_an_incident_without_blocking_others(
        api: Api, frozen_clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = api.register(category="labor")
    healthy = api.register(category="labor")
    real_fire = timers._fire

    def flaky(conn: Any, row: Any, now: datetime) -> str:
        if row.case_id == broken["id"]:
            raise RuntimeError("expression failed")
        return real_fire(conn, row, now)

    monkeypatch.setattr(timers, "_fire", flaky)
    report = fire(frozen_clock, at(2026, 12, 2, 17))
    assert report.failed == 1 and report.fired == 1
    assert _task(api, healthy["id"], "dispatch")["escalation_level"] == 1
    for hours in range(1, 200):
        fire(frozen_clock, at(2026, 12, 2, 17) + timedelta(hours=hours))
    incidents = api.get("supervisor1", "/escalations")["incidents"]
    assert incidents and incidents[0]["case_id"] == broken["id"] and "expression failed" in incidents[0]["error"]
    timeline = api.get("admin1", f"/cases/{broken['id']}")["timeline"]
    assert any(e["action"] == "timer.incident" for e in timeline)


def test_a_finished_supervision_branch_never_overwrites_the_case_with_its_old_data(
        api: Api, frozen_clock: Any) -> None:
    case = _to_sign_for(api, complexity="simple")
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    handle = _task(api, case["id"], "handle")
    fire(frozen_clock, datetime.fromisoformat(handle["due_at"]) + timedelta(minutes=5))  # supervise opens
    api.work("mediator1", case["id"], "handle", {"outcome": "resolved"})
    supervise = next(t for t in api.get("supervisor1", "/tasks?scope=group")["items"] if t["name"] == "supervise")
    api.post("supervisor1", f"/tasks/{supervise['id']}/complete", json={"data": {"action": "note", "note": "已跟进"}})
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert (detail["outcome"], detail["status"]) == ("resolved", "feedback")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_timer_service_skips_a_case_an_officer_holds_and_takes_it_on_the_next_pass(
        api: Api, app: Any, frozen_clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import create_engine, text

    monkeypatch.setattr(timers, "BUSY_RETRIES", 0)  # give up on the busy case at once
    case = api.register(category="labor")
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as officer:
        officer.execute(text("BEGIN"))
        officer.execute(text("SELECT 1 FROM process_instances WHERE id = :id FOR UPDATE"),
                        {"id": case["process_instance_id"]})
        report = fire(frozen_clock, at(2026, 12, 2, 17))
        assert (report.fired, report.skipped) == (0, 1)  # no waiting behind the officer, no lock cycle
        officer.execute(text("ROLLBACK"))
    engine.dispose()
    assert timers.run_once().fired == 1
    assert _task(api, case["id"], "dispatch")["escalation_level"] == 1


def test_a_task_waits_on_one_rung_at_a_time_and_each_rung_fired_puts_in_the_next(api: Api, frozen_clock: Any) -> None:
    case = api.register(category="labor")
    dispatch = _task(api, case["id"], "dispatch")
    engine = create_engine(api.client.application.config["DATABASE_URL"])

    def waiting() -> list[str]:
        with engine.begin() as conn:
            return list(conn.execute(text("SELECT kind FROM timers WHERE task_id = :t AND state = 'waiting'"),
                                     {"t": dispatch["id"]}).scalars())

    due = datetime.fromisoformat(dispatch["due_at"])
    try:
        assert waiting() == ["warning"]
        assert fire(frozen_clock, due - timedelta(minutes=1)).fired == 1
        assert waiting() == ["overdue"]
        assert fire(frozen_clock, due + timedelta(minutes=1)).fired == 1
        assert waiting() == ["listed"]
        api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
        assert waiting() == []
    finally:
        engine.dispose()


def test_a_rung_that_becomes_an_incident_does_not_stop_the_ladder(
        api: Api, frozen_clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    case = api.register(category="labor")
    due = datetime.fromisoformat(_task(api, case["id"], "dispatch")["due_at"])
    real_fire = timers._fire

    def overdue_breaks(conn: Any, row: Any, now: datetime) -> str:
        if row.kind == "overdue":
            raise RuntimeError("reminder service down")
        return real_fire(conn, row, now)

    monkeypatch.setattr(timers, "_fire", overdue_breaks)
    for hours in range(0, 72):
        fire(frozen_clock, due - timedelta(minutes=1) + timedelta(hours=hours))
    actions = [e["action"] for e in api.get("admin1", f"/cases/{case['id']}")["timeline"]]
    assert "timer.incident" in actions and "task.listed" in actions  # listed came although overdue broke
    assert _task(api, case["id"], "dispatch")["escalation_level"] == 3
