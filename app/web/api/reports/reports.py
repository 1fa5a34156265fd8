"""Reports (研判): the summary of api.md, the daily list, the weekly analysis, the monthly ranking, each as
JSON, CSV or Excel, and their charts as SVG."""
from __future__ import annotations

from typing import Callable

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from app.services.reports import charts as report_charts
from app.web import report_requests
from app.web.api.blueprint import bp
from app.web.api.schemas import ref
from app.web.api.support import F, authenticated, doc, principal

_ERRORS = {200: "The report", 403: "Not a supervisor", 422: "Invalid day, period, month, grouping or metric"}
_CSV, _XLSX = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/reports/summary")
@authenticated
@doc("Figures and rates for a period, in total and per category, group, source or grid", tag="reports",
     query=("from", "to", "group_by", "compare"), answer=ref("SummaryReport"), responses=_ERRORS)
def report_summary() -> ResponseReturnValue:
    return jsonify(report_requests.summary(principal()))


@bp.get("/reports/daily")
@authenticated
@doc("The daily list: new cases, tasks due today, overdue tasks", tag="reports", query=("date",),
     answer=ref("DailyReport"), responses=_ERRORS)
def report_daily() -> ResponseReturnValue:
    return jsonify(report_requests.daily(principal()))


@bp.get("/reports/weekly")
@authenticated
@doc("The weekly analysis by category, group, source and grid with trends against the previous period",
     tag="reports", query=("from", "to"), answer=ref("WeeklyReport"), responses=_ERRORS)
def report_weekly() -> ResponseReturnValue:
    return jsonify(report_requests.weekly(principal()))


@bp.get("/reports/ranking")
@authenticated
@doc("The monthly ranking of handling groups by on-time and resolution rates", tag="reports", query=("month",),
     answer=ref("RankingReport"), responses=_ERRORS)
def report_ranking() -> ResponseReturnValue:
    return jsonify(report_requests.ranking(principal()))


# One route per report (not /reports/<name>.<fmt>), so that each download documents the parameters it reads.
def _download_doc(name: str, query: tuple[str, ...]) -> Callable[[F], F]:
    return doc(f"The {name} report as a CSV or Excel download (the same query as its JSON)", tag="reports",
               query=query, media=(_CSV, _XLSX), download=True, path={"fmt": {"enum": ["csv", "xlsx"]}},
               responses={**_ERRORS, 200: "The report as CSV (fmt csv) or Excel (fmt xlsx)",
                          404: "A format other than csv or xlsx"})


@bp.get("/reports/summary.<fmt>")
@authenticated
@_download_doc("summary", ("from", "to", "group_by"))
def report_summary_download(fmt: str) -> ResponseReturnValue:
    return report_requests.download(principal(), "summary", fmt)


@bp.get("/reports/daily.<fmt>")
@authenticated
@_download_doc("daily", ("date",))
def report_daily_download(fmt: str) -> ResponseReturnValue:
    return report_requests.download(principal(), "daily", fmt)


@bp.get("/reports/weekly.<fmt>")
@authenticated
@_download_doc("weekly", ("from", "to"))
def report_weekly_download(fmt: str) -> ResponseReturnValue:
    return report_requests.download(principal(), "weekly", fmt)


@bp.get("/reports/ranking.<fmt>")
@authenticated
@_download_doc("ranking", ("month",))
def report_ranking_download(fmt: str) -> ResponseReturnValue:
    return report_requests.download(principal(), "ranking", fmt)


@bp.get("/reports/charts/summary.svg")
@authenticated
@doc("Bar chart of one metric per group (same query as the summary, plus metric)", tag="reports",
     query=("from", "to", "group_by", "metric"), media=("image/svg+xml",), responses=_ERRORS)
def report_summary_chart() -> ResponseReturnValue:
    metric = report_charts.parse_metric(request.args.get("metric"))
    return Response(report_charts.summary_bars(report_requests.summary(principal()), metric),
                    mimetype="image/svg+xml")


@bp.get("/reports/charts/daily.svg")
@authenticated
@doc("Line chart of cases received per day against the previous period", tag="reports", query=("from", "to"),
     media=("image/svg+xml",), responses=_ERRORS)
def report_daily_chart() -> ResponseReturnValue:
    return Response(report_charts.daily_lines(report_requests.weekly(principal())), mimetype="image/svg+xml")
