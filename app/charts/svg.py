"""Bar and line charts as SVG text, for the report pages and downloads.

Small on purpose: horizontal bars (labels are Chinese category or group names of varying length, which
read better down the side than slanted under columns) and a line chart of a few series over days.
Values may be None (a rate with no denominator): no bar, a gap in the line.
"""
from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

PALETTE = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828")
FONT = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei',sans-serif\" font-size=\"12\""
_ROW, _LABEL_WIDTH, _PLOT_WIDTH, _TOP = 24, 150, 420, 36


def _text_width(text: str) -> float:
    """Rough advance width at 12 px: CJK characters are square, Latin ones about half as wide."""
    return sum(12.0 if ord(ch) > 0x2E80 else 6.5 for ch in text)


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title><rect width="100%" height="100%" fill="#ffffff"/>'
            f'<text x="8" y="20" {FONT} font-weight="bold">{escape(title)}</text>' + "".join(body) + "</svg>")


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *, percent: bool = False) -> str:
    """One horizontal bar per label; `percent` scales 0..1 values to a 0–100% axis."""
    label_width = max([_LABEL_WIDTH, *(_text_width(label) + 16 for label in labels)])
    known = [v for v in values if v is not None]
    top = 1.0 if percent else max(known, default=0.0) or 1.0
    body = []
    for row, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _TOP + row * _ROW
        body.append(f'<text x="{label_width - 8:.0f}" y="{y + 16}" text-anchor="end" {FONT}>{escape(label)}</text>')
        if value is None:
            body.append(f'<text x="{label_width + 4:.0f}" y="{y + 16}" {FONT} fill="#888888">—</text>')
            continue
        length = _PLOT_WIDTH * max(0.0, value) / top
        body.append(f'<rect x="{label_width:.0f}" y="{y + 4}" width="{length:.1f}" height="{_ROW - 8}" '
                    f'fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(value, percent)}</title></rect>')
        body.append(f'<text x="{label_width + length + 4:.1f}" y="{y + 16}" {FONT}>{_fmt(value, percent)}</text>')
    width = label_width + _PLOT_WIDTH + 70
    return _svg(width, _TOP + max(1, len(labels)) * _ROW + 12, title, body)


def line_chart(title: str, x_labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
               percent: bool = False, width: float = 640, height: float = 280) -> str:
    """Several series over the same x positions (days), with a legend; None leaves a gap."""
    left, right, top, bottom = 56.0, 16.0, 52.0, 40.0
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for values in series.values() for v in values if v is not None]
    ceiling = 1.0 if percent else max(known, default=0.0) or 1.0
    step = plot_w / max(1, len(x_labels) - 1)

    def point(i: int, v: float) -> str:
        return f"{left + i * step:.1f},{top + plot_h * (1 - v / ceiling):.1f}"

    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999999"/>']
    for tick in range(5):
        y = top + plot_h * (1 - tick / 4)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eeeeee"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>'
                    f'{_fmt(ceiling * tick / 4, percent)}</text>')
    every = max(1, len(x_labels) // 10)  # at most about ten labels under the axis
    for i, label in enumerate(x_labels):
        if i % every == 0:
            body.append(f'<text x="{left + i * step:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                        f'{FONT}>{escape(label)}</text>')
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(point(i, value))
            cx, cy = point(i, value).split(",")
            body.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"><title>{escape(name)} '
                        f'{escape(x_labels[i])}: {_fmt(value, percent)}</title></circle>')
        body += [f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>'
                 for run in runs if len(run) > 1]
        x = left + n * 150
        body.append(f'<rect x="{x}" y="30" width="12" height="12" fill="{colour}"/>'
                    f'<text x="{x + 16}" y="40" {FONT}>{escape(name)}</text>')
    return _svg(width, height, title, body)
