"""The three reports of domain.md: the daily list, the weekly analysis with trends, the monthly ranking of
groups. Figures come from app.services.reports.summary (SQL aggregation); lists are bounded by LIST_LIMIT."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select, true
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import FieldError, ValidationFailed
from app.models import Case, TaskRow
from app.services.kernel import policy, present
from app.services.reports import summary as reports
from app.services.reports.summary import Period
from app.states import CaseStatus, TaskState

LIST_LIMIT = 1000  # a city receives about 600 cases a day; longer lists say how many were left out
TREND_RATES = ("closure_rate", "on_time_rate", "resolution_rate", "mediation_success_rate", "satisfaction_rate")


def _listed(session: Session, query: Select[Any], render: Any) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return {"total": int(total), "items": [render(row) for row in session.scalars(query.limit(LIST_LIMIT))]}


def daily(principal: Any, day: date) -> dict[str, Any]:
    """每日清单: cases received that day, open tasks due that day, open tasks overdue (judged at the end of
    the day, or now for today)."""
    visible = reports.scope_of(principal)
    start, end = Period(day, day).bounds()
    at = min(end, clock.now())
    open_tasks = select(TaskRow).where(TaskRow.state == TaskState.OPEN, policy.overseen_tasks(principal),
                                       ~exists().where(Case.id == TaskRow.case_id, Case.status == CaseStatus.SUSPENDED))
    new_cases = select(Case).where(Case.received_at >= start, Case.received_at < end,
                                   Case.status != CaseStatus.CANCELLED,
                                   visible if visible is not None else true())

    def overdue_item(task: TaskRow) -> dict[str, Any]:
        assert task.due_at is not None
        return {**present.task_item(task, task.case_no), "overdue_seconds": int((at - task.due_at).total_seconds())}

    with db.transaction() as session:
        return {
            "date": day.isoformat(),
            "new": _listed(session, new_cases.order_by(Case.received_at, Case.id), present.case_summary),
            # A day limit ends at 24:00 of its day: due at the next midnight is due this day, not the next.
            "due_today": _listed(session, open_tasks.where(TaskRow.due_at > start, TaskRow.due_at <= end)
                                 .order_by(TaskRow.due_at, TaskRow.id), lambda t: present.task_item(t, t.case_no)),
            "overdue": _listed(session, open_tasks.where(TaskRow.due_at < at).order_by(TaskRow.due_at, TaskRow.id),
                               overdue_item),
        }


def _change(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """Trend against the previous period: the difference in received and in each rate (null when either
    side has no rate)."""
    change: dict[str, Any] = {"received": now["received"] - before["received"]}
    change["received_ratio"] = round(change["received"] / before["received"], 4) if before["received"] else None
    for rate in TREND_RATES:
        change[rate] = (round(now[rate] - before[rate], 4)
                        if now[rate] is not None and before[rate] is not None else None)
    return change


def _received_per_day(session: Session, period: Period, visible: ColumnElement[bool] | None) -> list[int]:
    """Cases received on each day of the period: one query with one conditional count per day."""
    start, _ = period.bounds()
    days = [Period(period.first + timedelta(days=n), period.first + timedelta(days=n)).bounds()
            for n in range(period.days)]
    end = days[-1][1]
    counts = [func.sum(sql_case((and_(Case.received_at >= a, Case.received_at < b), 1), else_=0)) for a, b in days]
    row = session.execute(select(*counts).where(Case.received_at >= start, Case.received_at < end,
                                                visible if visible is not None else true())).one()
    return [int(value or 0) for value in row]


def weekly(principal: Any, period: Period) -> dict[str, Any]:
    """每周研判: figures by category, group, source and grid, each against the previous period of the
    same length, and cases received per day in both periods (the trend line)."""
    visible = reports.scope_of(principal)
    if period.days > 93:
        raise ValidationFailed("the analysis period is too long", [FieldError("to", "at most 93 days")])
    previous = period.previous()
    with db.transaction() as session:
        total = reports.summarise(session, period, None, visible)["total"]
        before = reports.summarise(session, previous, None, visible)["total"]
        dimensions: dict[str, list[dict[str, Any]]] = {}
        for grouping in reports.GROUPINGS:
            earlier = {item["key"]: item for item in reports.summarise(session, previous, grouping, visible)["items"]}
            empty = reports.figures({})
            dimensions[grouping] = [
                {**item, "previous": earlier.get(item["key"], empty),
                 "change": _change(item, earlier.get(item["key"], empty))}
                for item in reports.summarise(session, period, grouping, visible)["items"]]
        this_days = _received_per_day(session, period, visible)
        last_days = _received_per_day(session, previous, visible)
    return {**period.as_dict(), "previous_period": previous.as_dict(),
            "total": {**total, "previous": before, "change": _change(total, before)},
            "dimensions": dimensions,
            "daily": [{"date": (period.first + timedelta(days=n)).isoformat(), "received": this_days[n],
                       "previous_received": last_days[n]} for n in range(period.days)]}


def parse_month(text: str | None) -> Period:
    """YYYY-MM; the default is the last complete month."""
    if not text:
        first_of_this = clock.today().replace(day=1)
        text = (first_of_this - timedelta(days=1)).strftime("%Y-%m")
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        first = None
    if first is None or not reports.in_range(first):
        raise ValidationFailed("the month is invalid", [FieldError("month", f"{text!r} is not a month like 2026-11")])
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Period(first, last)


def _rank_key(item: dict[str, Any]) -> tuple[Any, ...]:
    # Best on-time rate first, then resolution rate; groups without closed cases (null rates) last.
    return (item["on_time_rate"] is None, -(item["on_time_rate"] or 0), -(item["resolution_rate"] or 0),
            -item["closed"], str(item["key"]))


def ranking(principal: Any, month: Period) -> dict[str, Any]:
    """每月排名: handling groups ranked by on-time rate, then resolution rate, for cases received in the month."""
    visible = reports.scope_of(principal)
    with db.transaction() as session:
        result = reports.summarise(session, month, "group", visible)
    items = sorted((item for item in result["items"] if item["key"] is not None), key=_rank_key)
    unassigned = [item for item in result["items"] if item["key"] is None]
    return {"month": month.first.strftime("%Y-%m"), **month.as_dict(), "total": result["total"],
            "items": [{"rank": n, **item} for n, item in enumerate(items, start=1)],
            "unassigned": unassigned[0] if unassigned else None}
