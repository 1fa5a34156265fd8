"""Report pages (研判) for supervisors and the centre director: the summary with its bar chart, the daily
list, the weekly analysis with its trend line, the monthly ranking, and their downloads."""
from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from app.errors import ValidationFailed
from app.services.reports import charts as report_charts
from app.services.reports import exports as report_files
from app.web import report_requests
from app.web.ui.blueprint import bp
from app.web.ui.i18n import localise
from app.web.ui.support import login_required, principal, roles_required

VIEWS = ("summary", "daily", "weekly", "ranking")


def _chart(view: str, result: dict[str, Any]) -> Markup | None:
    """Our own SVG, drawn by app.charts from numbers and escaped labels: safe to inline."""
    if view == "summary":
        return Markup(report_charts.summary_bars(result, report_charts.parse_metric(request.args.get("metric"))))
    if view == "weekly":
        return Markup(report_charts.daily_lines(result))
    return None


@bp.get("/reports")
@login_required
@roles_required("supervisor")
def reports() -> ResponseReturnValue:
    view = request.args.get("view", "summary")
    if view not in VIEWS:
        view = "summary"
    build, tables = report_requests.REPORTS[view]
    try:
        result = build(principal())
    except ValidationFailed as exc:
        problems = [localise(e.message) for e in exc.errors] or [localise(exc.detail)]
        return render_template("reports/reports.html", view=view, tables=[], chart=None, problems=problems,
                               metrics=report_files.FIGURE_COLUMNS, args=request.args), 422
    return render_template("reports/reports.html", view=view, tables=tables(result), chart=_chart(view, result),
                           problems=[], metrics=report_files.FIGURE_COLUMNS, args=request.args)


@bp.get("/reports/<name>.<fmt>")
@login_required
@roles_required("supervisor")
def report_download(name: str, fmt: str) -> ResponseReturnValue:
    return report_requests.download(principal(), name, fmt)
