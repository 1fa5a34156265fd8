"""Charts of the reports (SVG from app.charts): a bar per group for one metric, and received per day
against the previous period."""
from __future__ import annotations

from typing import Any

from app import charts
from app.errors import FieldError, ValidationFailed
from app.services.reports.exports import DIMENSION_NAMES, FIGURE_COLUMNS, label

METRICS = dict(FIGURE_COLUMNS)


def parse_metric(name: str | None) -> str:
    metric = name or "received"
    if metric not in METRICS:
        raise ValidationFailed("unknown metric", [FieldError("metric", f"metric must be one of {', '.join(METRICS)}")])
    return metric


def summary_bars(result: dict[str, Any], metric: str) -> str:
    dimension = result.get("group_by")
    items = result["items"] or [{"key": "合计", **result["total"]}]
    title = f"{METRICS[metric]}（按{DIMENSION_NAMES.get(dimension or '', '合计')}，{result['from']}—{result['to']}）"
    return charts.bar_chart(title, [label(dimension, i["key"]) if dimension else "合计" for i in items],
                            [i[metric] for i in items], percent=metric.endswith("_rate"))


def daily_lines(weekly: dict[str, Any]) -> str:
    days = weekly["daily"]
    return charts.line_chart(f"每日受理量 {weekly['from']}—{weekly['to']}（与上期对比）",
                             [d["date"][5:] for d in days],
                             {"本期": [d["received"] for d in days], "上期": [d["previous_received"] for d in days]})
