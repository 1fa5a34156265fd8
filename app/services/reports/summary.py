"""The metrics of domain.md (研判), counted by SQL aggregation: the database returns one row per group,
never the cases themselves, so a year of a city's cases summarises in well under a second.

Definitions (a *period* is from..to, whole days in the centre's time zone; `end` is the instant the
day after `to` begins; `at` is the moment of evaluation, min(end, now)):

- cancelled cases (撤销 by an operator: a duplicate registration, a case registered by mistake) count
  nowhere: neither received, closed nor open.
- received: cases received in the period (received_at: the registration, or for a work order imported
  from the 12345 / 110 / petition systems the source's own reception time). Every other count is about
  these cases (a cohort), so a case received on the 30th and closed on the 2nd counts in the month it
  was received.
- closed: received and closed before `end`. open = received - closed. Counting closures by `end`
  (not "now") keeps a past period's figures fixed and makes trends compare like with like.
- closed_on_time: closed, and no task of the case was late: none completed after its due_at, and none
  open past its due_at at `at` (a cancelled task counts only while it was open). Tasks without a due
  instant cannot be late.
- resolved: closed with outcome 'resolved' (agreement reached / request met).
- overdue_open: open at `at` with at least one task open past its due_at at that moment; a case
  suspended (中止) now is not overdue, and once resumed its due instants are later by the suspended working
  time, so suspended time never makes a case late (nor costs it closed_on_time).
- mediated (entered mediation): a `handle` task opened before `end`, or the case's procedure is
  'mediation' since before `end`. agreements: mediated with outcome 'resolved'.
- feedback_visits: closed cases with `satisfied` recorded (the visit that closed the case; an unsatisfied
  first visit reopens the case once, and the case then counts with its second answer when it closes);
  satisfied: those with satisfied = true.
- rates: closure = closed/received, on_time = closed_on_time/closed, resolution = resolved/closed,
  mediation_success = agreements/mediated, satisfaction = satisfied/feedback_visits; null when the
  denominator is 0, otherwise rounded to 4 decimals.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, literal, or_, select, text, true
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import FieldError, ValidationFailed
from app.models import Case, TaskRow, table_of
from app.runtime import settings
from app.services.kernel import policy
from app.states import CaseStatus, TaskState

GROUPINGS = {"category": "category", "group": "handling_group", "source": "source", "grid": "grid",
             "case_type": "case_type"}
COUNTS = ("received", "closed", "resolved", "closed_on_time", "open", "overdue_open", "mediated", "agreements",
          "feedback_visits", "satisfied")
RATES = {"closure_rate": ("closed", "received"), "on_time_rate": ("closed_on_time", "closed"),
         "resolution_rate": ("resolved", "closed"), "mediation_success_rate": ("agreements", "mediated"),
         "satisfaction_rate": ("satisfied", "feedback_visits")}
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """Whole days, both inclusive, in the centre's time zone."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (for trends)."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(settings.get("TIMEZONE", "Asia/Shanghai"))
        start = datetime.combine(self.first, time(), zone)
        return start, datetime.combine(self.last + timedelta(days=1), time(), zone)

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


FIRST_YEAR, LAST_YEAR = 2000, 2100  # reports outside these years are typing errors, not questions


def in_range(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_period(first: str | None, last: str | None, *, default_days: int = 7) -> Period:
    """from/to as ISO dates; `to` defaults to today, `from` to `default_days` days ending on `to`."""
    errors: list[FieldError] = []
    end = _parse_date("to", last, errors) or clock.today()
    start = _parse_date("from", first, errors) or end - timedelta(days=default_days - 1)
    if not errors and start > end:
        errors.append(FieldError("from", f"from ({start}) is after to ({end})"))
    if not errors and (end - start).days >= MAX_DAYS:
        errors.append(FieldError("to", f"a report spans at most {MAX_DAYS} days"))
    if errors:
        raise ValidationFailed("the report period is invalid", errors)
    return Period(start, end)


def _parse_date(field: str, text: str | None, errors: list[FieldError]) -> date | None:
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(field, f"{text!r} is not a date like 2026-12-01"))
        return None
    if not in_range(value):
        errors.append(FieldError(field, f"{text} is outside the years {FIRST_YEAR}–{LAST_YEAR}"))
        return None
    return value


def parse_grouping(name: str | None) -> str | None:
    if name and name not in GROUPINGS:
        raise ValidationFailed("unknown grouping", [FieldError("group_by", f"group_by must be one of "
                                                                          f"{', '.join(GROUPINGS)}")])
    return name or None


# The aggregation --------------------------------------------------------------------------------
_C, _T = table_of(Case), table_of(TaskRow)
_START, _END, _AT = (bindparam("b_start", type_=_C.c.created_at.type), bindparam("b_end", type_=_C.c.created_at.type),
                     bindparam("b_at", type_=_C.c.created_at.type))


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sql_case((condition, 1), else_=0)


def _statement(column: str | None, visible: ColumnElement[bool] | None = None) -> Select[Any]:
    # Tasks that can change a case's flags; the others (most of them: done on time) are not joined.
    # A suspended case's tasks are not late while it is suspended; on resuming, their due instants move
    # later by the suspended working time (app.services.operations.lifecycle), so the suspension never counts.
    overdue_at = and_(_T.c.created_at < _END, _T.c.due_at < _AT,
                      or_(_T.c.completed_at.is_(None), _T.c.completed_at > _AT), _C.c.status != CaseStatus.SUSPENDED)
    late_done = and_(_T.c.state == TaskState.COMPLETED, _T.c.completed_at < _END, _T.c.completed_at > _T.c.due_at)
    handle = and_(_T.c.bpmn_id == "handle", _T.c.created_at < _END)
    handled = and_(_T.c.bpmn_id == "handle", _T.c.state == TaskState.COMPLETED, _T.c.completed_at < _END)
    # Every visit counts, the unsatisfied one that reopened a case included (domain.md: ÷ visits made).
    visit = and_(_T.c.bpmn_id == "feedback", _T.c.state == TaskState.COMPLETED, _T.c.completed_at < _END)
    key = _C.c[GROUPINGS[column]] if column else literal(None, Integer)
    # One row per case of the cohort (grouped by its primary key, so its own columns come along).
    per_case = (select(key.label("key"), _C.c.closed_at, _C.c.outcome, _C.c.satisfied, _C.c.procedure,
                       _C.c.procedure_since,
                       func.max(_flag(or_(late_done, overdue_at))).label("late"),
                       func.max(_flag(overdue_at)).label("overdue"),
                       func.max(_flag(handle)).label("handled"),
                       func.max(_flag(handled)).label("handle_done"),
                       func.sum(_flag(visit)).label("visits"))
                .select_from(_C.outerjoin(_T, and_(_T.c.case_id == _C.c.id,
                                                   or_(handle, late_done, overdue_at, visit))))
                .where(_C.c.received_at >= _START, _C.c.received_at < _END, _C.c.status != CaseStatus.CANCELLED,
                       visible if visible is not None else true())
                .group_by(_C.c.id).subquery("per_case"))
    c = per_case.c
    closed = and_(c.closed_at.is_not(None), c.closed_at < _END)
    # A party that refused mediation never entered it (People's Mediation Law art. 17).
    mediated = and_(or_(c.handled == 1, and_(c.procedure == "mediation", c.procedure_since < _END)),
                    or_(c.outcome.is_(None), c.outcome != "mediation_refused"))
    visited = and_(closed, c.satisfied.is_not(None))
    counts = {
        "received": func.count(),
        "closed": func.sum(_flag(closed)),
        "resolved": func.sum(_flag(and_(closed, c.outcome == "resolved"))),
        "closed_on_time": func.sum(_flag(and_(closed, c.late == 0))),
        "overdue_open": func.sum(_flag(and_(~closed, c.overdue == 1))),
        "mediated": func.sum(_flag(mediated)),
        # An agreement counts once the handling that reached it was done before the period's end.
        "agreements": func.sum(_flag(and_(mediated, c.handle_done == 1, c.outcome == "resolved"))),
        "feedback_visits": func.sum(func.coalesce(c.visits, 0)),
        "satisfied": func.sum(_flag(and_(visited, c.satisfied.is_(True)))),
    }
    if column is None:
        return select(literal(None, Integer).label("key"), *(value.label(name) for name, value in counts.items()))
    return select(c.key, *(value.label(name) for name, value in counts.items())).group_by(c.key)


# Built once per grouping: the statements never change, only their parameters.
_STATEMENTS = {name: _statement(name) for name in (None, *GROUPINGS)}


def figures(row: dict[str, Any]) -> dict[str, Any]:
    """Counts plus the rates derived from them (null when the denominator is 0)."""
    counts = {name: int(row.get(name) or 0) for name in COUNTS if name != "open"}
    counts["open"] = counts["received"] - counts["closed"]
    rates = {rate: round(counts[top] / counts[bottom], 4) if counts[bottom] else None
             for rate, (top, bottom) in RATES.items()}
    return {**{name: counts[name] for name in COUNTS}, **rates}


def aggregate(session: Session, period: Period, group_by: str | None,
              visible: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """Rows of counts per group key (one row with key None without grouping); `visible`: only the cases
    it takes in (a supervisor of a lower centre)."""
    start, end = period.bounds()
    params = {"b_start": start, "b_end": end, "b_at": min(end, clock.now())}
    if session.get_bind().dialect.name == "postgresql":
        # Parallel workers would each rebuild the per-case grouping (measured: slower on 2 cores), and
        # JIT compilation costs more than it saves on a sub-second query.
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        session.execute(text("SET LOCAL jit = off"))
    statement = _STATEMENTS[group_by] if visible is None else _statement(group_by, visible)
    return [dict(row._mapping) for row in session.execute(statement, params)]


def scope_of(principal: Any) -> ColumnElement[bool] | None:
    """The cases a reader of reports counts: None for every case (admins, the top centre)."""
    principal.require_role("supervisor")
    return policy.case_scope(principal)


def summarise(session: Session, period: Period, group_by: str | None,
              visible: ColumnElement[bool] | None = None) -> dict[str, Any]:
    rows = aggregate(session, period, group_by, visible)
    # Every case falls in exactly one group, so the total is the sum of the groups' counts.
    total = {name: sum(int(r[name] or 0) for r in rows) for name in COUNTS if name != "open"}
    items = [{"key": r["key"], **figures(r)} for r in rows] if group_by else []
    items.sort(key=lambda item: (-item["received"], item["key"] is None, str(item["key"])))
    return {**period.as_dict(), "group_by": group_by, "total": figures(total), "items": items}


def summary(principal: Any, period: Period, group_by: str | None = None, *,
            compare: bool = False) -> dict[str, Any]:
    """GET /reports/summary: totals and per-group figures; with compare, the previous period too."""
    visible = scope_of(principal)
    with db.transaction() as session:
        result = summarise(session, period, group_by, visible)
        if compare:
            result["previous"] = summarise(session, period.previous(), group_by, visible)
        return result
