"""The small pictures of BPMN: task type icons, event and gateway markers, flow decorations, arrowheads."""
from __future__ import annotations

import math
from collections.abc import Mapping

from lxml import etree

from app.diagram.model import Bounds

SVG = "http://www.w3.org/2000/svg"


def node(parent: etree._Element, tag: str, **attrs: object) -> etree._Element:
    """An SVG child element; `class_` → class, `stroke_width` → stroke-width, floats rounded."""
    element = etree.SubElement(parent, f"{{{SVG}}}{tag}")
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        element.set(key.rstrip("_").replace("_", "-"), str(value))
    return element


def _envelope(g: etree._Element, x: float, y: float, w: float, h: float, filled: bool) -> None:
    node(g, "rect", x=x, y=y, width=w, height=h, class_="ink" if filled else "line", fill=None if filled else "#fff")
    # A filled (throwing) envelope keeps its flap: a white line of its own class, which no stylesheet
    # rule for lines (nor a mark's colour) paints over.
    node(g, "path", d=f"M{x:.1f},{y:.1f} L{x + w / 2:.1f},{y + h * 0.55:.1f} L{x + w:.1f},{y:.1f}",
         class_="flap" if filled else "line")


def task_icon(g: etree._Element, kind: str, x: float, y: float) -> None:
    if kind == "userTask":
        node(g, "circle", cx=x + 8, cy=y + 5, r=4, class_="line")
        node(g, "path", d=f"M{x + 1:.1f},{y + 17:.1f} q0,-8 7,-8 q7,0 7,8 z", class_="line")
    elif kind == "scriptTask":
        node(g, "path", class_="line", d=(f"M{x + 3:.1f},{y:.1f} h11 q-4,4 0,8 q4,4 0,8 h-11 q4,-4 0,-8 "
                                          f"q-4,-4 0,-8 z M{x + 5:.1f},{y + 5:.1f} h6 M{x + 6:.1f},{y + 8:.1f} h6 "
                                          f"M{x + 5:.1f},{y + 11:.1f} h6"))
    elif kind == "businessRuleTask":
        node(g, "rect", x=x, y=y + 1, width=17, height=13, class_="line", fill="#fff")
        node(g, "rect", x=x, y=y + 1, width=17, height=4, class_="ink")
        node(g, "path", d=f"M{x:.1f},{y + 9.5:.1f} h17 M{x + 5:.1f},{y + 5:.1f} v9", class_="line")
    elif kind == "serviceTask":
        node(g, "circle", cx=x + 8, cy=y + 8, r=6, class_="line", stroke_width="3", stroke_dasharray="2.4 2.3")
        node(g, "circle", cx=x + 8, cy=y + 8, r=3, class_="line", fill="#fff")
    elif kind in ("sendTask", "receiveTask"):
        _envelope(g, x, y + 2, 17, 11, filled=kind == "sendTask")
    elif kind == "manualTask":
        node(g, "path", class_="line", d=(f"M{x:.1f},{y + 8:.1f} l5,-5 h10 v2 h-6 h8 v3 h-8 h7 v3 h-7 h6 v3 "
                                          f"h-11 z"))


def bottom_markers(g: etree._Element, markers: list[str], cx: float, top: float) -> None:
    x = cx - 7 * len(markers) - 2 * (len(markers) - 1)
    for marker in markers:
        if marker == "collapsed":
            node(g, "rect", x=x, y=top, width=14, height=14, class_="line", fill="#fff")
            node(g, "path", d=f"M{x + 3:.1f},{top + 7:.1f} h8 M{x + 7:.1f},{top + 3:.1f} v8", class_="line")
        elif marker == "parallel":
            node(g, "path", d=f"M{x + 3:.1f},{top + 1:.1f} v12 M{x + 7:.1f},{top + 1:.1f} v12 "
                              f"M{x + 11:.1f},{top + 1:.1f} v12", class_="line", stroke_width="2")
        elif marker == "sequential":
            node(g, "path", d=f"M{x + 1:.1f},{top + 3:.1f} h12 M{x + 1:.1f},{top + 7:.1f} h12 "
                              f"M{x + 1:.1f},{top + 11:.1f} h12", class_="line", stroke_width="2")
        elif marker == "compensation":
            node(g, "path", d=f"M{x + 7:.1f},{top + 2:.1f} l-6,5 l6,5 z M{x + 13:.1f},{top + 2:.1f} l-6,5 l6,5 z",
                 class_="line")
        elif marker == "standard":
            node(g, "path", d=f"M{x + 4:.1f},{top + 12:.1f} a6,6 0 1 1 6,0 m0,0 l1,-4 m-1,4 l-4,-1", class_="line")
        x += 18


def _regular_polygon(cx: float, cy: float, radius: float, sides: int) -> str:
    angles = (math.radians(-90 + i * 360 / sides) for i in range(sides))
    return " ".join(f"{cx + radius * math.cos(a):.1f},{cy + radius * math.sin(a):.1f}" for a in angles)


def event_marker(g: etree._Element, event: str, cx: float, cy: float, r: float, *, filled: bool) -> None:
    ink = "ink" if filled else "line"
    s = r / 18  # drawn for the standard 36 px event
    if event == "message":
        _envelope(g, cx - 9 * s, cy - 6 * s, 18 * s, 12 * s, filled)
    elif event == "timer":
        node(g, "circle", cx=cx, cy=cy, r=11 * s, class_="line", fill="#fff")
        ticks = " ".join(f"M{cx + 9 * s * math.cos(a):.1f},{cy + 9 * s * math.sin(a):.1f} "
                         f"L{cx + 11 * s * math.cos(a):.1f},{cy + 11 * s * math.sin(a):.1f}"
                         for a in (math.radians(d) for d in range(0, 360, 30)))
        node(g, "path", d=ticks, class_="line", stroke_width="1")
        node(g, "path", d=f"M{cx:.1f},{cy:.1f} L{cx + 5 * s:.1f},{cy - 7 * s:.1f} M{cx:.1f},{cy:.1f} "
                          f"L{cx + 6 * s:.1f},{cy + 1 * s:.1f}", class_="line")
    elif event == "signal":
        node(g, "polygon", points=f"{cx:.1f},{cy - 10 * s:.1f} {cx + 9 * s:.1f},{cy + 7 * s:.1f} "
                                  f"{cx - 9 * s:.1f},{cy + 7 * s:.1f}", class_=ink)
    elif event == "error":
        node(g, "polygon", class_=ink, points=(f"{cx - 9 * s:.1f},{cy + 9 * s:.1f} {cx - 4 * s:.1f},{cy - 8 * s:.1f} "
                                               f"{cx + 2 * s:.1f},{cy + 2 * s:.1f} {cx + 9 * s:.1f},{cy - 9 * s:.1f} "
                                               f"{cx + 4 * s:.1f},{cy + 8 * s:.1f} {cx - 2 * s:.1f},{cy - 2 * s:.1f}"))
    elif event == "escalation":
        node(g, "polygon", class_=ink, points=(f"{cx:.1f},{cy - 10 * s:.1f} {cx + 7 * s:.1f},{cy + 8 * s:.1f} "
                                               f"{cx:.1f},{cy + 2 * s:.1f} {cx - 7 * s:.1f},{cy + 8 * s:.1f}"))
    elif event == "terminate":
        node(g, "circle", cx=cx, cy=cy, r=10 * s, class_="ink")
    elif event == "conditional":
        node(g, "rect", x=cx - 7 * s, y=cy - 9 * s, width=14 * s, height=18 * s, class_="line", fill="#fff")
        node(g, "path", class_="line", stroke_width="1",
             d="".join(f"M{cx - 4 * s:.1f},{cy + dy * s:.1f} h{8 * s:.1f} " for dy in (-5, -1.5, 2, 5.5)))
    elif event == "link":
        node(g, "polygon", class_=ink, points=(f"{cx - 8 * s:.1f},{cy - 3 * s:.1f} {cx + 1 * s:.1f},{cy - 3 * s:.1f} "
                                               f"{cx + 1 * s:.1f},{cy - 8 * s:.1f} {cx + 9 * s:.1f},{cy:.1f} "
                                               f"{cx + 1 * s:.1f},{cy + 8 * s:.1f} {cx + 1 * s:.1f},{cy + 3 * s:.1f} "
                                               f"{cx - 8 * s:.1f},{cy + 3 * s:.1f}"))
    elif event == "compensate":
        for dx in (-9, 0):
            node(g, "polygon", class_=ink, points=(f"{cx + dx * s:.1f},{cy:.1f} {cx + (dx + 9) * s:.1f},"
                                                   f"{cy - 6 * s:.1f} {cx + (dx + 9) * s:.1f},{cy + 6 * s:.1f}"))
    elif event == "cancel":
        node(g, "path", d=f"M{cx - 7 * s:.1f},{cy - 7 * s:.1f} l{14 * s:.1f},{14 * s:.1f} "
                          f"M{cx + 7 * s:.1f},{cy - 7 * s:.1f} l{-14 * s:.1f},{14 * s:.1f}",
             class_="line", stroke_width="3")


def gateway_marker(g: etree._Element, kind: str, cx: float, cy: float, size: float) -> None:
    s = size / 50
    if kind == "exclusive":
        node(g, "path", d=f"M{cx - 8 * s:.1f},{cy - 10 * s:.1f} l{16 * s:.1f},{20 * s:.1f} "
                          f"M{cx + 8 * s:.1f},{cy - 10 * s:.1f} l{-16 * s:.1f},{20 * s:.1f}",
             class_="line", stroke_width="4", stroke_linecap="round")
    elif kind == "parallel":
        node(g, "path", d=f"M{cx:.1f},{cy - 12 * s:.1f} v{24 * s:.1f} M{cx - 12 * s:.1f},{cy:.1f} h{24 * s:.1f}",
             class_="line", stroke_width="4")
    elif kind == "inclusive":
        node(g, "circle", cx=cx, cy=cy, r=11 * s, class_="line", stroke_width="3")
    elif kind == "complex":
        node(g, "path", class_="line", stroke_width="3.5", d=" ".join(
            f"M{cx - 12 * s * math.cos(math.radians(a)):.1f},{cy - 12 * s * math.sin(math.radians(a)):.1f} "
            f"L{cx + 12 * s * math.cos(math.radians(a)):.1f},{cy + 12 * s * math.sin(math.radians(a)):.1f}"
            for a in (0, 45, 90, 135)))
    elif kind == "eventBased":
        node(g, "circle", cx=cx, cy=cy, r=13 * s, class_="line", stroke_width="1")
        node(g, "circle", cx=cx, cy=cy, r=10.5 * s, class_="line", stroke_width="1")
        node(g, "polygon", points=_regular_polygon(cx, cy, 7 * s, 5), class_="line")


def data_object(g: etree._Element, b: Bounds, *, direction: str | None = None, collection: bool = False) -> None:
    """A data object; `direction` "input" (a white arrow) or "output" (a black one) for a process's data
    inputs and outputs, `collection` the three bars of a list."""
    fold = min(10.0, b.width / 3)
    node(g, "path", class_="shape", d=(f"M{b.x:.1f},{b.y:.1f} h{b.width - fold:.1f} l{fold:.1f},{fold:.1f} "
                                       f"v{b.height - fold:.1f} h{-b.width:.1f} z"))
    node(g, "path", class_="line", d=f"M{b.x + b.width - fold:.1f},{b.y:.1f} v{fold:.1f} h{fold:.1f}")
    if direction:
        x, y = b.x + 4, b.y + 4
        node(g, "path", d=f"M{x:.1f},{y + 3:.1f} h6 v-3 l6,5 l-6,5 v-3 h-6 z",
             class_="ink" if direction == "output" else "line", fill=None if direction == "output" else "#fff")
    if collection:
        top = b.y + b.height - 12
        node(g, "path", d=f"M{b.cx - 4:.1f},{top:.1f} v9 M{b.cx:.1f},{top:.1f} v9 M{b.cx + 4:.1f},{top:.1f} v9",
             class_="line", stroke_width="2")


def data_store(g: etree._Element, b: Bounds) -> None:
    ry = min(6.0, b.height / 6)
    rx = b.width / 2
    node(g, "path", class_="shape", d=(f"M{b.x:.1f},{b.y + ry:.1f} a{rx:.1f},{ry:.1f} 0 0 1 {b.width:.1f},0 "
                                       f"v{b.height - 2 * ry:.1f} a{rx:.1f},{ry:.1f} 0 0 1 {-b.width:.1f},0 z"))
    for dy in (0.0, 4.0, 8.0):
        node(g, "path", class_="line",
             d=f"M{b.x:.1f},{b.y + ry + dy:.1f} a{b.width / 2:.1f},{ry:.1f} 0 0 0 {b.width:.1f},0")


def default_slash(g: etree._Element, x: float, y: float, angle: float) -> None:
    cx, cy = x + 10 * math.cos(angle), y + 10 * math.sin(angle)
    slash = angle + math.radians(60)
    dx, dy = 6 * math.cos(slash), 6 * math.sin(slash)
    node(g, "path", d=f"M{cx - dx:.1f},{cy - dy:.1f} L{cx + dx:.1f},{cy + dy:.1f}", class_="line")


def condition_diamond(g: etree._Element, x: float, y: float, angle: float) -> None:
    c, s = math.cos(angle), math.sin(angle)
    points = [(x, y), (x + 8 * c - 5 * s, y + 8 * s + 5 * c), (x + 16 * c, y + 16 * s),
              (x + 8 * c + 5 * s, y + 8 * s - 5 * c)]
    node(g, "polygon", points=" ".join(f"{px:.1f},{py:.1f}" for px, py in points), class_="shape condition")


def markers(defs: etree._Element, prefix: str, colours: Mapping[str, str]) -> None:
    """Arrowheads per colour: SVG 1.1 markers do not take their colour from the line they end."""
    for mark, colour in colours.items():
        suffix = f"-{mark}" if mark else ""
        # 20 user units for 20 of the view box: an arrowhead 10 px long and wide, as modelers draw it.
        arrow = node(defs, "marker", id=f"{prefix}-arrow{suffix}", viewBox="0 0 20 20", refX="11", refY="10",
                     markerWidth="20", markerHeight="20", orient="auto", markerUnits="userSpaceOnUse")
        node(arrow, "path", d="M1,5 L11,10 L1,15 Z", fill=colour, stroke=colour, stroke_width="1")
        opened = node(defs, "marker", id=f"{prefix}-open{suffix}", viewBox="0 0 20 20", refX="10", refY="10",
                      markerWidth="20", markerHeight="20", orient="auto", markerUnits="userSpaceOnUse")
        node(opened, "path", d="M1,4 L10,10 L1,16", fill="none", stroke=colour, stroke_width="1.5")
        circle = node(defs, "marker", id=f"{prefix}-circle{suffix}", viewBox="0 0 20 20", refX="6", refY="10",
                      markerWidth="10", markerHeight="10", orient="auto", markerUnits="userSpaceOnUse")
        node(circle, "circle", cx="6", cy="10", r="3.5", fill="#fff", stroke=colour, stroke_width="1.5")
