"""Reports (研判): the summary of api.md, the daily list, the weekly analysis, the monthly ranking, each as
JSON, CSV or Excel, and their charts as SVG."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import FieldError, ValidationFailed
from app.services import report_charts, report_files, report_views, reports
from app.services.auth import Principal
from app.web.api import bp
from app.web.api.support import authenticated, bool_arg, doc, principal

_FORMATS = {"csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_ERRORS = {200: "The report", 403: "Not a supervisor", 422: "Invalid period, grouping or format"}


def _summary(who: Principal) -> dict[str, Any]:
    period = reports.parse_period(request.args.get("from"), request.args.get("to"))
    return reports.summary(who, period, reports.parse_grouping(request.args.get("group_by")),
                           compare=bool(bool_arg("compare")))


def _daily(who: Principal) -> dict[str, Any]:
    text = request.args.get("date")
    try:
        day = date.fromisoformat(text) if text else reports.today()
    except ValueError:
        raise ValidationFailed("the date is invalid", [FieldError("date", f"{text!r} is not a date")]) from None
    return report_views.daily(who, day)


def _weekly(who: Principal) -> dict[str, Any]:
    return report_views.weekly(who, reports.parse_period(request.args.get("from"), request.args.get("to")))


def _ranking(who: Principal) -> dict[str, Any]:
    return report_views.ranking(who, report_views.parse_month(request.args.get("month")))


REPORTS: dict[str, tuple[Callable[[Principal], dict[str, Any]], Callable[[dict[str, Any]], list[Any]]]] = {
    "summary": (_summary, report_files.summary_tables), "daily": (_daily, report_files.daily_tables),
    "weekly": (_weekly, report_files.weekly_tables), "ranking": (_ranking, report_files.ranking_tables)}


@bp.get("/reports/summary")
@authenticated
@doc("Figures and rates for a period, in total and per category, group, source or grid", tag="reports",
     query=("from", "to", "group_by", "compare"), responses=_ERRORS)
def report_summary() -> ResponseReturnValue:
    return jsonify(_summary(principal()))


@bp.get("/reports/daily")
@authenticated
@doc("The daily list: new cases, tasks due today, overdue tasks", tag="reports", query=("date",), responses=_ERRORS)
def report_daily() -> ResponseReturnValue:
    return jsonify(_daily(principal()))


@bp.get("/reports/weekly")
@authenticated
@doc("The weekly analysis by category, group, source and grid with trends against the previous period",
     tag="reports", query=("from", "to"), responses=_ERRORS)
def report_weekly() -> ResponseReturnValue:
    return jsonify(_weekly(principal()))


@bp.get("/reports/ranking")
@authenticated
@doc("The monthly ranking of handling groups by on-time and resolution rates", tag="reports", query=("month",),
     responses=_ERRORS)
def report_ranking() -> ResponseReturnValue:
    return jsonify(_ranking(principal()))


@bp.get("/reports/<name>.<fmt>")
@authenticated
@doc("A report as a CSV or Excel download (name: summary, daily, weekly, ranking; same query as its JSON)",
     tag="reports", query=("from", "to", "group_by", "date", "month"), responses={**_ERRORS, 404: "Unknown report"})
def report_download(name: str, fmt: str) -> ResponseReturnValue:
    if name not in REPORTS or fmt not in _FORMATS:
        from app.errors import NotFound

        raise NotFound(f"no report {name}.{fmt}: use summary, daily, weekly or ranking with .csv or .xlsx")
    build, tables = REPORTS[name]
    result = build(principal())
    content = (report_files.to_csv if fmt == "csv" else report_files.to_xlsx)(tables(result))
    stem = f"concord-{name}-" + str(result.get("month") or result.get("date") or f"{result['from']}_{result['to']}")
    return Response(content, mimetype=_FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})


@bp.get("/reports/charts/summary.svg")
@authenticated
@doc("Bar chart of one metric per group (same query as the summary, plus metric)", tag="reports",
     query=("from", "to", "group_by", "metric"), responses=_ERRORS)
def report_summary_chart() -> ResponseReturnValue:
    metric = report_charts.parse_metric(request.args.get("metric"))
    return Response(report_charts.summary_bars(_summary(principal()), metric), mimetype="image/svg+xml")


@bp.get("/reports/charts/daily.svg")
@authenticated
@doc("Line chart of cases received per day against the previous period", tag="reports", query=("from", "to"),
     responses=_ERRORS)
def report_daily_chart() -> ResponseReturnValue:
    return Response(report_charts.daily_lines(_weekly(principal())), mimetype="image/svg+xml")
