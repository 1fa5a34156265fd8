"""Operating running cases through the API: the instance list, cancel, suspend / resume, incidents, and who may."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from app.services.kernel import instances, timers
from tests.conftest import Api

SH = ZoneInfo("Asia/Shanghai")
REASON = {"reason": "重复登记"}


def _inbox_ids(api: Api, user: str) -> set[str]:
    return {t["case_no"] for t in api.get(user, "/tasks?scope=group&per_page=200")["items"]}


def _dispatched(api: Api, group: str = "mediation") -> dict[str, Any]:
    """A case at the handler's sign-for step (a task of `group`)."""
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": group, "complexity": "simple"})
    return case


def test_the_instance_list_filters_by_process_state_and_waiting_element_per_centre(api: Api) -> None:
    first, second = api.register(category="labor"), _dispatched(api)
    page = api.get("admin1", "/process-instances?process_key=dispute_case&version=1&state=active")
    assert page["total"] == 2 and [i["case_id"] for i in page["items"]] == [second["id"], first["id"]]
    item = page["items"][1]
    assert (item["process_key"], item["version"], item["state"], item["waiting_at"], item["incident"]) == (
        "dispute_case", 1, "active", ["dispatch"], False)
    assert item["waiting_titles"] == ["分流交办"]  # what the 流程运维 page shows
    waiting = api.get("admin1", "/process-instances?waiting_at=sign_for")["items"]
    assert [i["case_no"] for i in waiting] == [second["case_no"]]
    assert api.get("admin1", "/process-instances?version=2")["total"] == 0
    assert api.get("admin1", "/process-instances?incident=true")["total"] == 0
    # A township supervisor sees the cases that reached the groups of their centre, and only those.
    assert [i["case_id"] for i in api.get("supervisor2", "/process-instances")["items"]] == [second["id"]]
    assert api.get("supervisor1", "/process-instances")["total"] == 2
    api.get("mediator1", "/process-instances", expect=403)
    api.get("admin1", "/process-instances?state=sleeping", expect=422)


def test_cancelling_takes_open_tasks_out_of_every_inbox_stops_timers_and_records_the_reason(
        api: Api, frozen_clock: Any) -> None:
    case = api.register(category="labor")
    assert case["case_no"] in _inbox_ids(api, "dispatch1")
    api.post("admin1", f"/cases/{case['id']}/cancel", 422, json={"reason": "  "})
    api.post("mediator1", f"/cases/{case['id']}/cancel", 403, json=REASON)
    answer = api.post("supervisor1", f"/cases/{case['id']}/cancel", json=REASON)
    assert answer["status"] == "cancelled"
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert detail["status"] == "cancelled" and detail["active_tasks"] == [] and detail["closed_at"] is None
    assert case["case_no"] not in _inbox_ids(api, "dispatch1")
    cancelled = [e for e in detail["timeline"] if e["action"] == "case.cancelled"]
    assert cancelled and cancelled[0]["detail"]["reason"] == "重复登记"
    assert cancelled[0]["detail"]["tasks"][0]["task"] == "dispatch"
    frozen_clock.advance(timedelta(days=40))
    assert timers.run_once().fired == 0  # neither the ladder nor anything else fires for it
    api.post("admin1", f"/cases/{case['id']}/cancel", 409, json=REASON)
    api.post("admin1", f"/cases/{case['id']}/suspend", 409, json=REASON)
    assert api.get("admin1", "/process-instances?state=cancelled")["items"][0]["case_id"] == case["id"]


def test_an_operation_on_a_version_the_caller_did_not_see_is_refused(api: Api) -> None:
    case = api.register(category="labor")
    [item] = api.get("admin1", "/process-instances")["items"]
    seen = item["instance_version"]
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    api.post("admin1", f"/cases/{case['id']}/cancel", 409, json={**REASON, "version": seen})
    [item] = api.get("admin1", "/process-instances")["items"]
    api.post("admin1", f"/cases/{case['id']}/cancel", json={**REASON, "version": item["instance_version"]})


def test_a_supervisor_of_another_centre_cannot_operate_on_a_case_outside_it(api: Api) -> None:
    case = api.register(category="labor")  # at the county's dispatch desk
    api.post("supervisor2", f"/cases/{case['id']}/suspend", 404, json=REASON)
    mine = _dispatched(api, "family")  # reached a room of supervisor2's township
    api.post("supervisor2", f"/cases/{mine['id']}/suspend", json=REASON)


def test_a_suspended_case_completes_and_fires_nothing_and_resumes_with_its_limits_moved_by_working_time(
        api: Api, frozen_clock: Any) -> None:
    case = api.register(category="labor")  # Tuesday 1 December 09:30; dispatch is due at the end of Wednesday
    dispatch = api.task(case["id"], "dispatch")
    assert dispatch["due_at"] == "2026-12-03T00:00:00+08:00"
    api.post("admin1", f"/cases/{case['id']}/suspend", json={"reason": "当事人失联"})
    assert api.get("admin1", f"/cases/{case['id']}")["status"] == "suspended"
    api.post("dispatch1", f"/tasks/{dispatch['id']}/claim")
    refused = api.post("dispatch1", f"/tasks/{dispatch['id']}/complete", 409,
                       json={"data": {"handling_group": "mediation", "complexity": "simple"}})
    assert "中止" in refused["detail"]
    api.post("admin1", f"/cases/{case['id']}/suspend", 409, json=REASON)
    frozen_clock.set(datetime(2026, 12, 8, 9, 30, tzinfo=SH))  # a week later: five working days
    assert timers.run_once().fired == 0
    assert api.task(case["id"], "dispatch")["escalation_level"] == 0
    assert api.get("admin1", "/process-instances?state=suspended")["total"] == 1
    resumed = api.post("admin1", f"/cases/{case['id']}/resume", json={"reason": "已联系上"})
    assert resumed["status"] == "registered"
    moved = api.task(case["id"], "dispatch")
    assert moved["due_at"] == "2026-12-10T00:00:00+08:00" and moved["assignee"] == "dispatch1"
    # The warning rung (80% of the limit) moved the same five working days: not due yet on Tuesday evening.
    frozen_clock.set(datetime(2026, 12, 8, 20, 0, tzinfo=SH))
    timers.run_once()
    assert api.task(case["id"], "dispatch")["escalation_level"] == 0
    frozen_clock.set(datetime(2026, 12, 9, 20, 0, tzinfo=SH))
    timers.run_once()
    assert api.task(case["id"], "dispatch")["escalation_level"] == 1
    api.post("admin1", f"/cases/{case['id']}/resume", 409, json=REASON)
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    timeline = [e["action"] for e in api.get("admin1", f"/cases/{case['id']}")["timeline"]]
    assert "case.suspended" in timeline and "case.resumed" in timeline


def test_a_step_incident_is_listed_and_retried_once_the_state_loads_again(api: Api, app: Any) -> None:
    case = api.register(category="labor")
    dispatch = api.task(case["id"], "dispatch")
    engine = create_engine(app.config["DATABASE_URL"])
    select_state = text("SELECT state FROM process_instances WHERE id = "
                        "(SELECT process_instance_id FROM cases WHERE id = :case)")
    damage = text("UPDATE process_instances SET state = :state, version = version + 1 "
                  "WHERE id = (SELECT process_instance_id FROM cases WHERE id = :case)")
    try:
        with engine.begin() as conn:
            good = conn.execute(select_state, {"case": case["id"]}).scalar_one()
            conn.execute(damage, {"state": good[:200], "case": case["id"]})
        instances.cache.clear()
        api.get("dispatch1", f"/tasks/{dispatch['id']}", expect=500)
        [incident] = api.get("admin1", "/incidents")["items"]
        assert incident["element"] == "the process state" and incident["case_no"] == case["case_no"]
        assert api.get("admin1", "/process-instances?incident=true")["items"][0]["case_id"] == case["id"]
        api.post("mediator1", f"/incidents/{incident['id']}/retry", 403)
        api.post("admin1", f"/incidents/{incident['id']}/retry", 500)  # still damaged: counted once more
        assert api.get("admin1", "/incidents")["items"][0]["occurrences"] == 2
        with engine.begin() as conn:
            conn.execute(damage, {"state": good, "case": case["id"]})
    finally:
        engine.dispose()
    assert api.post("admin1", f"/incidents/{incident['id']}/retry") == {"id": incident["id"], "resolved": True,
                                                                       "retried": True}
    assert api.get("admin1", "/incidents")["items"] == []
    api.post("admin1", f"/incidents/{incident['id']}/retry", 409)
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})


def test_an_incident_is_resolved_with_a_reason(api: Api, app: Any) -> None:
    case = api.register(category="labor")
    engine = create_engine(app.config["DATABASE_URL"])
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE process_instances SET state = 'x', version = version + 1 "
                              "WHERE id = (SELECT process_instance_id FROM cases WHERE id = :case)"),
                         {"case": case["id"]})
    finally:
        engine.dispose()
    instances.cache.clear()
    api.get("dispatch1", f"/tasks/{api.task(case['id'], 'dispatch')['id']}", expect=500)
    [incident] = api.get("admin1", "/incidents")["items"]
    api.post("admin1", f"/incidents/{incident['id']}/resolve", 422, json={})
    api.post("admin1", f"/incidents/{incident['id']}/resolve", json={"reason": "案件已线下处理"})
    assert api.get("admin1", "/incidents")["items"] == []
    timeline = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    assert any(e["action"] == "incident.resolved" and e["detail"]["reason"] == "案件已线下处理" for e in timeline)


def test_reports_count_a_cancelled_case_nowhere_and_a_suspended_one_not_late(api: Api, frozen_clock: Any) -> None:
    cancelled, suspended, late = (api.register(category="labor") for _ in range(3))
    api.post("admin1", f"/cases/{cancelled['id']}/cancel", json=REASON)
    api.post("admin1", f"/cases/{suspended['id']}/suspend", json=REASON)
    frozen_clock.set(datetime(2026, 12, 8, 9, 30, tzinfo=SH))  # every dispatch (due 3 December) is past due
    total = api.get("supervisor1", "/reports/summary?from=2026-12-01&to=2026-12-08")["total"]
    assert (total["received"], total["closed"], total["open"], total["overdue_open"]) == (2, 0, 2, 1)
    daily = api.get("supervisor1", "/reports/daily?date=2026-12-08")
    assert [t["case_no"] for t in daily["overdue"]["items"]] == [late["case_no"]]
    assert daily["new"]["total"] == 0
    api.post("admin1", f"/cases/{suspended['id']}/resume", json=REASON)
    total = api.get("supervisor1", "/reports/summary?from=2026-12-01&to=2026-12-08")["total"]
    assert total["overdue_open"] == 1  # its limit moved by the five working days it was suspended
