"""Report charts drawn as self-contained SVG (pure functions: no Flask, no database)."""
from app.charts.svg import bar_chart, line_chart

__all__ = ["bar_chart", "line_chart"]
