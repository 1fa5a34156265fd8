"""Reports as the API and the pages ask for them: the query parameters read once, the same services
called, the same downloads produced (both front doors share this; no report logic lives here)."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

from flask import Response, request

from app import clock
from app.errors import FieldError, NotFound, ValidationFailed
from app.services.kernel.principals import Principal
from app.services.reports import exports as report_files
from app.services.reports import periodic as report_views
from app.services.reports import summary as reports
from app.web.arguments import bool_arg

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def summary(who: Principal) -> dict[str, Any]:
    period = reports.parse_period(request.args.get("from"), request.args.get("to"))
    return reports.summary(who, period, reports.parse_grouping(request.args.get("group_by")),
                           compare=bool(bool_arg("compare")))


def daily(who: Principal) -> dict[str, Any]:
    text = request.args.get("date")
    try:
        day = date.fromisoformat(text) if text else clock.today()
    except ValueError:
        day = None
    if day is None or not reports.in_range(day):
        raise ValidationFailed("the date is invalid", [FieldError("date", f"{text!r} is not a date")])
    return report_views.daily(who, day)


def weekly(who: Principal) -> dict[str, Any]:
    return report_views.weekly(who, reports.parse_period(request.args.get("from"), request.args.get("to")))


def ranking(who: Principal) -> dict[str, Any]:
    return report_views.ranking(who, report_views.parse_month(request.args.get("month")))


REPORTS: dict[str, tuple[Callable[[Principal], dict[str, Any]], Callable[[dict[str, Any]], list[Any]]]] = {
    "summary": (summary, report_files.summary_tables), "daily": (daily, report_files.daily_tables),
    "weekly": (weekly, report_files.weekly_tables), "ranking": (ranking, report_files.ranking_tables)}


def download(who: Principal, name: str, fmt: str) -> Response:
    if name not in REPORTS or fmt not in FORMATS:
        raise NotFound(f"no report {name}.{fmt}: use summary, daily, weekly or ranking with .csv or .xlsx")
    build, tables = REPORTS[name]
    result = build(who)
    content = (report_files.to_csv if fmt == "csv" else report_files.to_xlsx)(tables(result))
    stem = f"concord-{name}-" + str(result.get("month") or result.get("date") or f"{result['from']}_{result['to']}")
    disposition = f'attachment; filename="{stem}.{fmt}"'
    return Response(content, content_type=FORMATS[fmt], headers={"Content-Disposition": disposition})
