"""Draw a BPMN diagram (from its DI) as a self-contained SVG, in the visual language of BPMN modelers.

`marks` colours elements: `done` (completed), `active` (waiting now), `error` (a validation problem),
`added` / `removed` / `changed` (a comparison of two versions). Sequence flows between completed
elements are drawn as done too, so the path a case took reads at a glance.
"""
from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import replace

from lxml import etree

from app.diagram import icons
from app.diagram.icons import node as _sub
from app.diagram.model import Bounds, Diagram, Edge, Shape, load_diagram

MARKS = ("done", "active", "error", "added", "removed", "changed")
SVG = "http://www.w3.org/2000/svg"
FONT_SIZE = 12.0
LINE_HEIGHT = 14.0
MARGIN = 20.0
_COLOURS = {"": ("#22303c", "#ffffff"), "done": ("#2e7d32", "#e8f5e9"), "active": ("#e65100", "#fff3e0"),
            "error": ("#c62828", "#ffebee"), "added": ("#1b5e20", "#c8e6c9"), "removed": ("#b71c1c", "#ffcdd2"),
            "changed": ("#b26a00", "#fff8e1")}
_TOKEN = re.compile(r"[\u2e80-\u9fff\uf900-\uffef]|[^\s\u2e80-\u9fff\uf900-\uffef]+|\s+")
_CONTAINERS = ("participant", "lane", "group")
_SUBPROCESSES = ("subProcess", "transaction", "adHocSubProcess")
_DATA = ("dataObjectReference", "dataStoreReference", "dataObject", "dataInput", "dataOutput")


def _is_expanded(shape: Shape) -> bool:
    """Drawn as a frame around its content (behind it), not as a box with a "+"."""
    return shape.expanded and (shape.kind in _SUBPROCESSES or shape.kind == "callActivity")


def _stylesheet(scope: str) -> str:
    rules = [
        f"{scope} text{{font-family:'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
        f"Arial,sans-serif;font-size:{FONT_SIZE:g}px;fill:#1f2933}}",
        # a shape's own colours (set by the modeler, as SVG attributes) show unless a mark paints it
        f"{scope} .shape{{stroke-width:1.5}}",
        f"{scope} .shape:not([fill]){{fill:#fff}}",
        f"{scope} .shape:not([stroke]){{stroke:#22303c}}",
        f"{scope} .container{{fill:none;stroke:#22303c;stroke-width:1.5}}",
        f"{scope} .head{{fill:#f3f5f7;stroke:#22303c;stroke-width:1.5}}",
        f"{scope} .flow{{fill:none;stroke:#22303c;stroke-width:1.5;stroke-linejoin:round}}",
        f"{scope} .messageFlow .flow{{stroke-dasharray:8 5}}",
        f"{scope} .association .flow,{scope} .dataInputAssociation .flow,"
        f"{scope} .dataOutputAssociation .flow{{stroke-dasharray:2 4}}",
        f"{scope} .ink{{fill:#22303c;stroke:none}}",
        f"{scope} .line{{fill:none;stroke:#22303c;stroke-width:1.5}}",
        f"{scope} .thick{{stroke-width:4}}",
        f"{scope} .dashed{{stroke-dasharray:6 3}}",
        f"{scope} .dotted{{stroke-dasharray:2 3}}",
        f"{scope} .flap{{fill:none;stroke:#fff;stroke-width:1.2}}",
        f"{scope} .label-bg{{fill:#fff;fill-opacity:.85;stroke:none}}",
    ]
    for mark in MARKS:
        stroke, fill = _COLOURS[mark]
        width = 3 if mark in ("active", "error") else 2
        rules += [f"{scope} .{mark} .shape{{fill:{fill};stroke:{stroke};stroke-width:{width}}}",
                  f"{scope} .{mark} .shape.thick{{stroke-width:5}}",
                  f"{scope} .{mark} .flow,{scope} .{mark} .line{{stroke:{stroke};stroke-width:{width}}}",
                  f"{scope} .{mark} .ink{{fill:{stroke}}}",
                  f"{scope} .{mark} text{{fill:{stroke};font-weight:600}}"]
    rules.append(f"{scope} .removed .shape,{scope} .removed .flow{{stroke-dasharray:6 3}}")
    # The diamond of a conditional flow keeps its thin line whatever the flow's mark.
    rules.append(f"{scope} .shape.condition{{stroke-width:1.5}}")
    return "".join(rules)


# The look of every diagram, scoped to the class of their root element: the same text whichever
# diagram it styles, so that a page showing several links it once (a strict Content-Security-Policy
# refuses the <style> element inside an SVG embedded in HTML) and a standalone SVG carries it inside.
STYLESHEET = _stylesheet("svg.bpmn-diagram")


def _text_width(text: str) -> float:
    return sum(FONT_SIZE if "\u2e80" <= ch <= "\uffef" else FONT_SIZE * 0.56 for ch in text)


def wrap(text: str, width: float) -> list[str]:
    """Break `text` into lines no wider than `width` (Chinese breaks between characters, Latin between words)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _TOKEN.findall(paragraph):
            if line and _text_width(line + token) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        if line.strip():
            lines.append(line.strip())
    return lines


def _label(parent: etree._Element, text: str, cx: float, top: float, width: float, *,
           anchor: str = "middle", centre_y: float | None = None, background: bool = False) -> None:
    lines = wrap(text, max(width, FONT_SIZE * 2))
    if not lines:
        return
    if centre_y is not None:
        top = centre_y - len(lines) * LINE_HEIGHT / 2
    if background:
        widest = max(_text_width(line) for line in lines)
        left = cx - widest / 2 if anchor == "middle" else cx
        _sub(parent, "rect", x=left - 2, y=top, width=widest + 4, height=len(lines) * LINE_HEIGHT, class_="label-bg")
    for i, line in enumerate(lines):
        node = _sub(parent, "text", x=cx, y=top + (i + 1) * LINE_HEIGHT - 3.0, text_anchor=anchor)
        node.text = line


def _group(parent: etree._Element, element_id: str, kind: str, mark: str, name: str) -> etree._Element:
    group = _sub(parent, "g", class_=f"el {kind} {mark}".strip(), data_element_id=element_id)
    title = _sub(group, "title")
    title.text = f"{name} ({element_id})" if name else element_id
    return group


def _container(layer: etree._Element, shape: Shape, mark: str, lane_names: Mapping[str, str]) -> None:
    if shape.kind == "lane" and shape.name in lane_names:
        shape = replace(shape, name=lane_names[shape.name])
    g = _group(layer, shape.element_id, shape.kind, mark, shape.name)
    b = shape.bounds
    if shape.kind == "group":
        _sub(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, rx=10, class_="container dashed")
        _label(g, shape.name, b.cx, b.y + 4, b.width)
        return
    _sub(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, class_="container shape")
    if not shape.horizontal:
        _sub(g, "rect", x=b.x, y=b.y, width=b.width, height=30, class_="head")
        _label(g, shape.name, b.cx, b.y + 8, b.width - 8)
        return
    _sub(g, "rect", x=b.x, y=b.y, width=30, height=b.height, class_="head")
    text = _sub(g, "g", transform=f"translate({b.x + 15:.1f},{b.cy:.1f}) rotate(-90)")
    _label(text, shape.name, 0, 0, b.height - 10, centre_y=0)


def _activity(g: etree._Element, shape: Shape) -> None:
    b = shape.bounds
    expanded = _is_expanded(shape)
    classes = "shape thick" if shape.kind == "callActivity" else "shape dotted" if shape.triggered else "shape"
    _sub(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, rx=10, class_=classes,
         fill_opacity="0.6" if expanded else None)
    if shape.kind == "transaction":
        _sub(g, "rect", x=b.x + 3, y=b.y + 3, width=b.width - 6, height=b.height - 6, rx=8, class_="line")
    icons.task_icon(g, shape.kind, b.x + 6, b.y + 6)
    if expanded:
        _label(g, shape.name, b.x + 10, b.y + 4, b.width - 20, anchor="start")
        return
    bottom: list[str] = []
    if shape.loop:
        bottom.append(shape.loop)
    if shape.kind in _SUBPROCESSES or shape.kind == "callActivity":
        bottom.append("collapsed")
    if shape.compensation:
        bottom.append("compensation")
    icons.bottom_markers(g, bottom, b.cx, b.y + b.height - 16)
    _label(g, shape.name, b.cx, 0, b.width - 12, centre_y=b.cy + (2 if bottom else 0))


def _event(g: etree._Element, shape: Shape) -> None:
    b = shape.bounds
    r = min(b.width, b.height) / 2
    dashed = "" if shape.interrupting else " dashed"
    if shape.kind == "endEvent":
        _sub(g, "circle", cx=b.cx, cy=b.cy, r=r, class_="shape thick")
    else:
        _sub(g, "circle", cx=b.cx, cy=b.cy, r=r, class_="shape" + dashed)
        if shape.kind not in ("startEvent",):
            _sub(g, "circle", cx=b.cx, cy=b.cy, r=r - 3, class_="line" + dashed)
    if shape.event:
        icons.event_marker(g, shape.event, b.cx, b.cy, r, filled=shape.throwing)


def _gateway(g: etree._Element, shape: Shape) -> None:
    b = shape.bounds
    points = f"{b.cx:.1f},{b.y:.1f} {b.x + b.width:.1f},{b.cy:.1f} {b.cx:.1f},{b.y + b.height:.1f} {b.x:.1f},{b.cy:.1f}"
    _sub(g, "polygon", points=points, class_="shape")
    kind = shape.kind.removesuffix("Gateway")
    if kind != "exclusive" or shape.marker_visible:
        icons.gateway_marker(g, kind, b.cx, b.cy, min(b.width, b.height))


def _artifact(g: etree._Element, shape: Shape) -> None:
    b = shape.bounds
    if shape.kind == "textAnnotation":
        _sub(g, "rect", x=b.x, y=b.y, width=b.width, height=b.height, fill="transparent", stroke="none")
        _sub(g, "path", d=f"M{b.x + 10:.1f},{b.y:.1f} h-10 v{b.height:.1f} h10", class_="line")
        _label(g, shape.name, b.x + 6, b.y + 4, b.width - 10, anchor="start")
    elif shape.kind == "dataStoreReference":
        icons.data_store(g, b)
    else:
        direction = {"dataInput": "input", "dataOutput": "output"}.get(shape.kind)
        icons.data_object(g, b, direction=direction, collection=shape.collection)


def _own_colours(g: etree._Element, shape: Shape) -> None:
    outline = next((child for child in g if "shape" in (child.get("class") or "").split()), None)
    if outline is not None:
        for attribute, value in (("fill", shape.fill), ("stroke", shape.stroke)):
            if value:
                outline.set(attribute, value)


def _label_width(given: Bounds | None) -> float:
    """The width an external label wraps at: the modeler's own label box when the file has one (wider,
    the text would run over the shapes beside it; a little slack for our font's wider glyphs), else the
    90 px modelers give a new label."""
    if given is None:
        return 90.0
    return max(given.width + 6, FONT_SIZE * 2)


def _external_label(layer: etree._Element, shape: Shape, mark: str) -> None:
    if not shape.name:
        return
    b = shape.bounds
    box = shape.label or Bounds(b.cx - 45, b.y + b.height + 5, 90, LINE_HEIGHT)
    g = _sub(layer, "g", class_=f"label {mark}".strip(), data_label_for=shape.element_id)
    _label(g, shape.name, box.cx, box.y, _label_width(shape.label))


def _flow_marks(diagram: Diagram, marks: Mapping[str, str],
                taken: Collection[tuple[str, str]] | None) -> dict[str, str]:
    """Flows are `done` when the case went along them: with `taken` (the engine's (from, to) pairs), those
    flows only; without it, every flow between two reached elements. Explicit marks win."""
    result = dict(marks)
    for edge in diagram.edges:
        if edge.element_id in result or edge.kind != "sequenceFlow":
            continue
        reached = marks.get(edge.source or "") == "done" and marks.get(edge.target or "") in ("done", "active")
        if reached and (taken is None or (edge.source, edge.target) in taken):
            result[edge.element_id] = "done"
    return result


def _edge(layer: etree._Element, labels: etree._Element, edge: Edge, mark: str, prefix: str) -> None:
    if len(edge.points) < 2:
        return
    g = _group(layer, edge.element_id, edge.kind, mark, edge.name)
    d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in edge.points)
    suffix = f"-{mark}" if mark else ""
    end = {"sequenceFlow": f"url(#{prefix}-arrow{suffix})", "messageFlow": f"url(#{prefix}-open{suffix})",
           "dataInputAssociation": f"url(#{prefix}-open{suffix})",
           "dataOutputAssociation": f"url(#{prefix}-open{suffix})"}.get(edge.kind)
    start = f"url(#{prefix}-circle{suffix})" if edge.kind == "messageFlow" else None
    _sub(g, "path", d=d, class_="flow", marker_end=end, marker_start=start)
    (x0, y0), (x1, y1) = edge.points[0], edge.points[1]
    angle = math.atan2(y1 - y0, x1 - x0)
    if edge.is_default:
        icons.default_slash(g, x0, y0, angle)
    elif edge.conditional:
        icons.condition_diamond(g, x0, y0, angle)
    if edge.name:
        if edge.label is not None:
            box = edge.label
        else:
            i = (len(edge.points) - 1) // 2
            (ax, ay), (bx, by) = edge.points[i], edge.points[i + 1]
            box = Bounds((ax + bx) / 2 - 45, (ay + by) / 2 - LINE_HEIGHT - 2, 90, LINE_HEIGHT)
        lg = _sub(labels, "g", class_=f"label {mark}".strip(), data_label_for=edge.element_id)
        _label(lg, edge.name, box.cx, box.y, _label_width(edge.label), background=True)


def draw(diagram: Diagram, *, marks: Mapping[str, str] | None = None, id_prefix: str = "bpmn",
         title: str | None = None, stylesheet: bool = True, taken: Collection[tuple[str, str]] | None = None,
         lane_names: Mapping[str, str] | None = None) -> str:
    marks = {k: v for k, v in (marks or {}).items() if v in MARKS}
    flow_marks = _flow_marks(diagram, marks, taken)
    box = diagram.extent()
    x, y = box.x - MARGIN, box.y - MARGIN
    width, height = box.width + 2 * MARGIN, box.height + 2 * MARGIN
    root = etree.Element(f"{{{SVG}}}svg", nsmap={None: SVG})
    for key, value in {"id": id_prefix, "class": "bpmn-diagram", "viewBox": f"{x:.0f} {y:.0f} {width:.0f} {height:.0f}",
                       "width": f"{width:.0f}", "height": f"{height:.0f}", "role": "img"}.items():
        root.set(key, value)
    if title:
        _sub(root, "title").text = title
    if stylesheet:
        _sub(root, "style").text = STYLESHEET
    icons.markers(_sub(root, "defs"), id_prefix, {m: _COLOURS[m][0] for m in _COLOURS})
    containers, edges, shapes, labels = (_sub(root, "g", class_=f"layer-{n}")
                                         for n in ("containers", "edges", "shapes", "labels"))
    # Boundary events sit on the border of their activity: draw them after every activity.
    for shape in sorted(diagram.shapes, key=lambda item: item.kind == "boundaryEvent"):
        mark = marks.get(shape.element_id, "")
        if shape.kind in _CONTAINERS:
            _container(containers, shape, mark, lane_names or {})
            continue
        g = _group(containers if _is_expanded(shape) else shapes, shape.element_id, shape.kind, mark, shape.name)
        if shape.kind.endswith("Event"):
            _event(g, shape)
            _external_label(labels, shape, mark)
        elif shape.kind.endswith("Gateway"):
            _gateway(g, shape)
            _external_label(labels, shape, mark)
        elif shape.kind == "textAnnotation" or shape.kind in _DATA:
            _artifact(g, shape)
            if shape.kind != "textAnnotation":
                _external_label(labels, shape, mark)
        else:
            _activity(g, shape)
        _own_colours(g, shape)
    for edge in diagram.edges:
        _edge(edges, labels, edge, flow_marks.get(edge.element_id, ""), id_prefix)
    return etree.tostring(root, encoding="unicode")


def render_svg(source: str | bytes, *, process_id: str | None = None, marks: Mapping[str, str] | None = None,
               id_prefix: str = "bpmn", title: str | None = None, stylesheet: bool = True,
               taken: Collection[tuple[str, str]] | None = None, lane_names: Mapping[str, str] | None = None) -> str:
    """The SVG of the diagram showing `process_id` in the BPMN `source`; raises DiagramError.

    `id_prefix` names the diagram's root and its arrowheads (several diagrams on one page need distinct
    ones). `stylesheet=False` leaves out the <style> element, for a page that links STYLESHEET instead."""
    if not re.fullmatch(r"[A-Za-z][\w-]*", id_prefix):
        raise ValueError("id_prefix must be a plain identifier")
    return draw(load_diagram(source, process_id), marks=marks, id_prefix=id_prefix, title=title,
                stylesheet=stylesheet, taken=taken, lane_names=lane_names)
