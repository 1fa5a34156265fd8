"""The centre's working-day calendar: import and show years, and hand the current calendar to the
services that compute due instants. Imports recompute every due instant that was provisional."""
from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from app import clock
from app.config import PROJECT_ROOT
from app.database import db
from app.errors import NotFound, ValidationFailed
from app.models import CalendarYear, TaskRow, Timer, table_of, timer_state_is
from app.runtime import settings
from app.services.kernel import audit
from app.services.kernel.principals import Principal
from app.states import TaskState
from app.workdays import CalendarFileError, Due, WorkCalendar, YearCalendar, parse_year_file

log = logging.getLogger(__name__)
SHIPPED = PROJECT_ROOT / "app" / "calendars"
_cached: tuple[float, WorkCalendar] | None = None
_YEARS = select(CalendarYear.year, CalendarYear.holidays, CalendarYear.make_up_workdays, CalendarYear.source)


def current(session: Session | Connection) -> WorkCalendar:
    """The calendar, re-read at most every CALENDAR_CACHE_SECONDS (another node may have imported a year)."""
    global _cached
    if _cached is None or time.monotonic() - _cached[0] > settings.get("CALENDAR_CACHE_SECONDS", 60):
        years = {row.year: YearCalendar(row.year, frozenset(map(date.fromisoformat, row.holidays)),
                                        frozenset(map(date.fromisoformat, row.make_up_workdays)), row.source)
                 for row in session.execute(_YEARS)}
        _cached = (time.monotonic(), WorkCalendar(years, settings.get("TIMEZONE", "Asia/Shanghai")))
    return _cached[1]


def working_seconds(start: datetime, end: datetime) -> float:
    """Working-day seconds from `start` to `end` in the current calendar; reads the database only when the
    cached calendar is stale (the pages ask this for every row they show)."""
    if _cached is None or time.monotonic() - _cached[0] > settings.get("CALENDAR_CACHE_SECONDS", 60):
        with db.transaction() as session:
            return current(session).working_seconds(start, end)
    return _cached[1].working_seconds(start, end)


def forget() -> None:
    global _cached
    _cached = None


def import_year(principal: Principal, text: str) -> dict[str, Any]:
    """Import (or replace) one year; every provisional due instant is then counted again."""
    principal.require_role("admin")
    try:
        year = parse_year_file(text)
    except CalendarFileError as exc:
        raise ValidationFailed(f"calendar not imported: {exc}") from exc
    with db.command() as conn:
        _store(conn, year, text, principal.username)
        forget()
        recomputed = _recompute_provisional(conn)
        audit.record(conn, actor=principal.username, action="calendar.imported",
                     detail={"year": year.year, "source": year.source, "recomputed_tasks": recomputed})
    forget()
    return {"year": year.year, "source": year.source, "holidays": len(year.holidays),
            "make_up_workdays": len(year.make_up_workdays), "recomputed_tasks": recomputed}


def _store(conn: Connection, year: YearCalendar, text: str, actor: str) -> None:
    table = table_of(CalendarYear)
    conn.execute(table.delete().where(table.c.year == year.year))
    conn.execute(table.insert(), {"year": year.year, "source": year.source, "content": text,
                                  "holidays": sorted(d.isoformat() for d in year.holidays),
                                  "make_up_workdays": sorted(d.isoformat() for d in year.make_up_workdays),
                                  "imported_by": actor, "imported_at": clock.now()})


def import_shipped(actor: str = "init-db") -> list[int]:
    """Import the shipped years the database does not have yet (never overwrites an admin's import)."""
    imported = []
    with db.command() as conn:
        known = set(conn.execute(select(CalendarYear.year)).scalars())
        for path in sorted(SHIPPED.glob("*.json")):
            text = path.read_text(encoding="utf-8")
            year = parse_year_file(text)
            if year.year not in known:
                _store(conn, year, text, actor)
                imported.append(year.year)
        if imported:
            forget()
            recomputed = _recompute_provisional(conn)
            audit.record(conn, actor=actor, action="calendar.imported",
                         detail={"years": imported, "source": "shipped", "recomputed_tasks": recomputed})
    forget()
    return imported


def show_year(principal: Principal, year: int) -> dict[str, Any]:
    principal.require_role("admin", "supervisor", "designer")
    with db.transaction() as session:
        row = session.get(CalendarYear, year)
        if row is None:
            raise NotFound(f"no calendar for {year}: weekends only, due dates in it are provisional")
        return {"year": row.year, "source": row.source, "holidays": row.holidays,
                "make_up_workdays": row.make_up_workdays, "imported_by": row.imported_by,
                "imported_at": row.imported_at.isoformat()}


_T, _TM = table_of(TaskRow), table_of(Timer)
_PROVISIONAL = select(_T.c.id, _T.c.created_at, _T.c.time_limit, _T.c.limit_working).where(
    _T.c.state == TaskState.OPEN, _T.c.time_limit.is_not(None),
    _T.c.due_provisional.is_(True) | _T.c.id.in_(select(_TM.c.task_id).where(
        timer_state_is("waiting"), _TM.c.provisional.is_(True))))
_SET_DUE = update(_T).where(_T.c.id == bindparam("b_id")).values(
    due_at=bindparam("b_due"), due_provisional=bindparam("b_provisional"))
_SET_TIMER = update(_TM).where(_TM.c.task_id == bindparam("b_task"), _TM.c.kind == bindparam("b_kind"),
                               timer_state_is("waiting")).values(fire_at=bindparam("b_at"),
                                                                provisional=bindparam("b_provisional"))


RUNGS = ("warning", "overdue", "listed")


def ladder(calendar: WorkCalendar, start: Any, limit: str, working: bool,
           kinds: tuple[str, ...] = RUNGS) -> tuple[Due, dict[str, Due]]:
    """The due instant of a node and the fire instants of its escalation rungs `kinds`, each marked
    provisional when it was counted through a year without calendar data (150% of a limit often reaches
    into the next year when the due date itself does not). Only the rungs asked for are counted."""
    due = calendar.add(start, limit, working=working)
    fractions = {"warning": settings.get("WARNING_AT", 0.8), "listed": settings.get("LISTED_AT", 1.5)}
    counted = [kind for kind in kinds if kind in fractions]
    points = dict(zip(counted, calendar.points_between(start, due.at, tuple(fractions[kind] for kind in counted),
                                                        working=working), strict=True))
    rungs = {kind: due.at if kind == "overdue" else points[kind] for kind in kinds}
    first = start.astimezone(calendar.zone).year
    return due, {kind: Due(at, working and not all(calendar.knows(year) for year in
                                                   range(first, at.astimezone(calendar.zone).year + 1)))
                 for kind, at in rungs.items()}


def _recompute_provisional(conn: Connection) -> int:
    calendar = current(conn)
    rows = conn.execute(_PROVISIONAL).all()
    for row in rows:
        due, rungs = ladder(calendar, row.created_at, row.time_limit, row.limit_working)
        conn.execute(_SET_DUE, {"b_id": row.id, "b_due": due.at, "b_provisional": due.provisional})
        for kind, rung in rungs.items():
            conn.execute(_SET_TIMER, {"b_task": row.id, "b_kind": kind, "b_at": rung.at,
                                      "b_provisional": rung.provisional})
    if rows:
        log.info("recomputed %d provisional due instants after a calendar import", len(rows))
    return len(rows)
