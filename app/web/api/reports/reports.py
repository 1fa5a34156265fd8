"""Reports (研判): the summary of api.md, the daily list, the weekly analysis, the monthly ranking, each as
JSON, CSV or Excel, and their charts as SVG."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from app.services.reports import charts as report_charts
from app.web import report_requests
from app.web.api.blueprint import bp
from app.web.api.support import authenticated, doc, principal

_ERRORS = {200: "The report", 403: "Not a supervisor", 422: "Invalid period, grouping or format"}


@bp.get("/reports/summary")
@authenticated
@doc("Figures and rates for a period, in total and per category, group, source or grid", tag="reports",
     query=("from", "to", "group_by", "compare"), responses=_ERRORS)
def report_summary() -> ResponseReturnValue:
    return jsonify(report_requests.summary(principal()))


@bp.get("/reports/daily")
@authenticated
@doc("The daily list: new cases, tasks due today, overdue tasks", tag="reports", query=("date",), responses=_ERRORS)
def report_daily() -> ResponseReturnValue:
    return jsonify(report_requests.daily(principal()))


@bp.get("/reports/weekly")
@authenticated
@doc("The weekly analysis by category, group, source and grid with trends against the previous period",
     tag="reports", query=("from", "to"), responses=_ERRORS)
def report_weekly() -> ResponseReturnValue:
    return jsonify(report_requests.weekly(principal()))


@bp.get("/reports/ranking")
@authenticated
@doc("The monthly ranking of handling groups by on-time and resolution rates", tag="reports", query=("month",),
     responses=_ERRORS)
def report_ranking() -> ResponseReturnValue:
    return jsonify(report_requests.ranking(principal()))


@bp.get("/reports/<name>.<fmt>")
@authenticated
@doc("A report as a CSV or Excel download (name: summary, daily, weekly, ranking; same query as its JSON)",
     tag="reports", query=("from", "to", "group_by", "date", "month"), responses={**_ERRORS, 404: "Unknown report"})
def report_download(name: str, fmt: str) -> ResponseReturnValue:
    return report_requests.download(principal(), name, fmt)


@bp.get("/reports/charts/summary.svg")
@authenticated
@doc("Bar chart of one metric per group (same query as the summary, plus metric)", tag="reports",
     query=("from", "to", "group_by", "metric"), responses=_ERRORS)
def report_summary_chart() -> ResponseReturnValue:
    metric = report_charts.parse_metric(request.args.get("metric"))
    return Response(report_charts.summary_bars(report_requests.summary(principal()), metric),
                    mimetype="image/svg+xml")


@bp.get("/reports/charts/daily.svg")
@authenticated
@doc("Line chart of cases received per day against the previous period", tag="reports", query=("from", "to"),
     responses=_ERRORS)
def report_daily_chart() -> ResponseReturnValue:
    return Response(report_charts.daily_lines(report_requests.weekly(principal())), mimetype="image/svg+xml")
