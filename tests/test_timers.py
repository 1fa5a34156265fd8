"""The timer service beyond the ladder: BPMN timers, provisional due dates and calendar imports, the CLI
worker, and exactly-once firing by several worker processes on PostgreSQL."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from app.config import PROJECT_ROOT
from app.database import db
from app.services.designer import deployments
from app.services.kernel import calendars, timers
from tests.conftest import BUNDLE, OPERATOR, Api

SH = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).resolve().parent / "data"
CALENDAR_2027 = {"year": 2027, "source": "test arrangement (not an official notice)",
                 "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-04"}],
                 "make_up_workdays": [{"name": "元旦调休", "date": "2027-01-09"}]}


def test_a_bpmn_timer_fires_by_the_application_clock(api: Api, frozen_clock: Any) -> None:
    bundle = {"timer.bpmn": (DATA / "timer.bpmn").read_bytes(),
              "register_case.schema.json": BUNDLE["register_case.schema.json"]}
    deployments.deploy(OPERATOR, bundle)
    case = api.register()
    assert [t["name"] for t in case["active_tasks"]] == ["wait"]
    assert timers.run_once().fired == 0
    frozen_clock.advance(timedelta(days=31))  # the engine's own wall clock has not moved: ours decides
    assert timers.run_once().fired == 1
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert [t["name"] for t in detail["active_tasks"]] == ["chase"]
    assert "timer.fired" in [e["action"] for e in detail["timeline"]]


def test_due_dates_in_a_year_without_calendar_are_provisional_until_it_is_imported(
        api: Api, frozen_clock: Any) -> None:
    frozen_clock.set(datetime(2026, 12, 31, 10, tzinfo=SH))  # Thursday
    case = api.register(category="labor")
    dispatch = api.task(case["id"], "dispatch")
    assert dispatch["due_at"] == "2027-01-02T00:00:00+08:00" and dispatch["due_provisional"] is True
    result = calendars.import_year(OPERATOR, json.dumps(CALENDAR_2027, ensure_ascii=False))
    assert result["recomputed_tasks"] == 1
    dispatch = api.task(case["id"], "dispatch")
    assert dispatch["due_at"] == "2027-01-06T00:00:00+08:00" and dispatch["due_provisional"] is False
    # 80% of the 38 working hours (14 on 31 December, 24 on 5 January) is 5 January 16:24; the old
    # provisional due instant (2 January) has passed, the recomputed one has not.
    frozen_clock.set(datetime(2027, 1, 5, 17, tzinfo=SH))
    timers.run_once()
    assert api.task(case["id"], "dispatch")["escalation_level"] == 1  # warning only, not overdue


def _concord(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONCORD_DATABASE_URL": url, "CONCORD_SECRET_KEY": "x"}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_calendar_cli_imports_shows_and_refuses_bad_files(app: Any, tmp_path: Path) -> None:
    url = app.config["DATABASE_URL"]
    good = tmp_path / "2027.json"
    good.write_text(json.dumps(CALENDAR_2027, ensure_ascii=False, indent=2), encoding="utf-8")
    imported = _concord("calendar", "import", str(good), url=url)
    assert imported.returncode == 0 and "imported 2027" in imported.stdout
    shown = _concord("calendar", "show", "2027", url=url)
    assert "2027-01-04" in shown.stdout and "2027-01-09" in shown.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(good.read_text(encoding="utf-8").replace("2027-01-04", "2027-01-32"), encoding="utf-8")
    refused = _concord("calendar", "import", str(bad), url=url)
    assert refused.returncode == 1 and "line" in refused.stderr and "Traceback" not in refused.stderr


def test_cli_fires_what_would_be_due_at_a_given_instant(api: Api, app: Any) -> None:
    case = api.register(category="labor")
    result = _concord("timers", "run", "--now", "2026-12-07T09:00:00+08:00", url=app.config["DATABASE_URL"])
    assert result.returncode == 0 and "fired 3" in result.stdout, result.stderr
    assert api.task(case["id"], "dispatch")["escalation_level"] == 3


def test_cli_now_is_the_instant_of_everything_the_pass_does(api: Api, app: Any) -> None:
    """`--now` moves the whole pass, not only what is due. It used to leave the steps a fired rung runs on
    the wall clock: the supervision task opened by sign-for's overdue rung was created "now" by the wall
    clock (before the case, in a drill), came due at once and climbed its own ladder in the same pass, and
    the timeline's records did not carry the instant the rungs fired at (found by the fault drill)."""
    case = api.register(category="neighbor")  # Tuesday 1 December 2026, 09:30 (the test's clock)
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    drill_now = "2026-12-04T09:00:00+08:00"  # past sign-for's due instant and its listing
    result = _concord("timers", "run", "--now", drill_now, url=app.config["DATABASE_URL"])
    assert result.returncode == 0 and "fired 3" in result.stdout, (result.stdout, result.stderr)
    supervise = api.task(case["id"], "supervise")
    assert supervise["created_at"] == drill_now and supervise["escalation_level"] == 0
    assert supervise["due_at"] == "2026-12-08T00:00:00+08:00"  # one working day from Friday
    timeline = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    assert [(e["action"], e["at"]) for e in timeline if e["action"] in timers.ACTIONS.values()] == [
        ("task.warning", drill_now), ("task.overdue", drill_now), ("task.listed", drill_now)]
    assert api.task(case["id"], "sign_for")["escalation_level"] == 3


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_worker_processes_fire_a_thousand_timers_exactly_once(api: Api, app: Any) -> None:
    url = app.config["DATABASE_URL"]
    cases = [api.register(category="labor") for _ in range(20)]
    engine = create_engine(url)
    with engine.begin() as conn:  # 50 more warning rungs per dispatch task: 1,000 due timers
        conn.execute(text("DELETE FROM timers"))
        conn.execute(text(
            "INSERT INTO timers (instance_id, case_id, task_id, bpmn_id, kind, fire_at, provisional, state, attempts) "
            "SELECT t.instance_id, t.case_id, t.id, t.bpmn_id, 'warning', now() - interval '1 minute', false, "
            "'waiting', 0 FROM tasks t, generate_series(1, 50) WHERE t.state = 'open'"))
    workers = [subprocess.Popen([sys.executable, "-m", "app.cli", "timers", "run", "--now",
                                 datetime.now(SH).isoformat(), "--worker", f"w{n}"], cwd=PROJECT_ROOT,
                                env={**os.environ, "CONCORD_DATABASE_URL": url, "CONCORD_SECRET_KEY": "x",
                                     "CONCORD_TIMER_BATCH": "20"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(3)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    with engine.begin() as conn:
        states = dict(conn.execute(text("SELECT state, count(*) FROM timers WHERE kind = 'warning' GROUP BY state"))
                      .all())
        next_rungs = conn.execute(text(
            "SELECT count(*), count(DISTINCT task_id) FROM timers WHERE kind = 'overdue'")).one()
        fired = conn.execute(text("SELECT count(*), count(DISTINCT detail->>'timer') FROM audit_log "
                                  "WHERE action = 'task.warning'")).one()
        by_worker = conn.execute(text("SELECT count(DISTINCT fired_by) FROM timers")).scalar()
    engine.dispose()
    assert states == {"fired": 1000} and tuple(fired) == (1000, 1000)
    assert tuple(next_rungs) == (20, 20)  # each task's next rung was put in once, whoever fired its warnings
    assert by_worker >= 2, "the work was not shared between the workers"
    assert len(cases) == 20


def test_a_rung_reaching_into_a_year_imported_meanwhile_counts_that_years_holidays(
        api: Api, frozen_clock: Any) -> None:
    frozen_clock.set(datetime(2026, 12, 22, 10, tzinfo=SH))
    case = api.register(category="contract")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "general"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    handle = api.task(case["id"], "handle")
    assert handle["due_at"] == "2027-01-01T00:00:00+08:00" and handle["due_provisional"] is False
    with db.transaction() as session:  # 150% of 7 working days, counted before 2027 is known
        _due, before = calendars.ladder(calendars.current(session), datetime.fromisoformat(handle["created_at"]),
                                        "P7D", True)
    assert before["listed"].provisional
    calendars.import_year(OPERATOR, json.dumps(CALENDAR_2027, ensure_ascii=False))
    frozen_clock.set(datetime(2027, 1, 1, 1, tzinfo=SH))  # past the due instant: warning and overdue fire
    timers.run_once()
    engine = create_engine(api.client.application.config["DATABASE_URL"])
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT kind, state, fire_at, provisional FROM timers WHERE task_id = :t "
                                 "ORDER BY id"), {"t": handle["id"]}).all()
    engine.dispose()
    assert [(row.kind, row.state) for row in rows] == [("warning", "fired"), ("overdue", "fired"),
                                                       ("listed", "waiting")]
    listed = rows[-1]
    fire_at = listed.fire_at if isinstance(listed.fire_at, datetime) else \
        datetime.fromisoformat(listed.fire_at).replace(tzinfo=timezone.utc)
    assert not listed.provisional and fire_at > before["listed"].at  # 1-4 January are holidays now
