"""Read a BPMN file's diagram interchange into plain shapes and edges, joined to their semantic elements."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from app.diagram.xml import BPMN, BPMNDI, NS, DiagramError, local, parse

__all__ = ["Bounds", "Diagram", "DiagramError", "Edge", "Shape", "load_diagram", "process_ids"]

@dataclass(frozen=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


@dataclass
class Shape:
    element_id: str
    kind: str  # the BPMN element's local name: userTask, startEvent, exclusiveGateway, lane, participant, ...
    name: str
    bounds: Bounds
    label: Bounds | None = None
    horizontal: bool = True
    expanded: bool = False
    marker_visible: bool = False
    event: str | None = None  # timer, message, ... for events
    interrupting: bool = True
    throwing: bool = False
    loop: str | None = None  # "parallel", "sequential" or "standard"
    triggered: bool = False  # an event subprocess (triggeredByEvent): drawn with a dotted border
    compensation: bool = False  # isForCompensation: the rewind marker
    collection: bool = False  # a data object (or input/output) holding a list
    fill: str | None = None  # the modeler's colours (BPMN DI colour extensions), when it set any
    stroke: str | None = None


@dataclass
class Edge:
    element_id: str
    kind: str  # sequenceFlow, messageFlow, association, dataInputAssociation, ...
    name: str
    points: list[tuple[float, float]]
    label: Bounds | None = None
    source: str | None = None
    target: str | None = None
    is_default: bool = False
    conditional: bool = False


@dataclass
class Diagram:
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def extent(self) -> Bounds:
        xs: list[float] = []
        ys: list[float] = []
        for shape in self.shapes:
            for box in (shape.bounds, shape.label):
                if box is not None:
                    xs += [box.x, box.x + box.width]
                    ys += [box.y, box.y + box.height]
        for edge in self.edges:
            xs += [p[0] for p in edge.points]
            ys += [p[1] for p in edge.points]
            if edge.label is not None:
                xs += [edge.label.x, edge.label.x + edge.label.width]
                ys += [edge.label.y, edge.label.y + edge.label.height]
        if not xs:
            return Bounds(0, 0, 100, 100)
        return Bounds(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _bounds(node: etree._Element | None) -> Bounds | None:
    if node is None:
        return None
    try:
        return Bounds(float(node.get("x", 0)), float(node.get("y", 0)),
                      float(node.get("width", 0)), float(node.get("height", 0)))
    except ValueError:
        return None


def process_ids(source: str | bytes) -> list[str]:
    """The ids of the processes a BPMN file defines."""
    return [p.get("id", "") for p in parse(source).iterfind("bpmn:process", NS)]


def _pick_plane(root: etree._Element, process_id: str | None) -> etree._Element:
    planes = list(root.iter(f"{{{BPMNDI}}}BPMNPlane"))
    if not planes:
        raise DiagramError("the file has no diagram interchange (BPMN DI): open and save it in a modeler")
    if process_id is None:
        # Prefer the page of a process or collaboration over a collapsed subprocess's own page.
        tops = {e.get("id") for e in root
                if isinstance(e.tag, str) and etree.QName(e).localname in ("process", "collaboration")}
        return next((plane for plane in planes if plane.get("bpmnElement") in tops), planes[0])
    owners = {process_id}
    for participant in root.iter(f"{{{BPMN}}}participant"):
        if participant.get("processRef") == process_id:
            collaboration = participant.getparent()
            if collaboration is not None and collaboration.get("id"):
                owners.add(collaboration.get("id", ""))
    for plane in planes:
        if plane.get("bpmnElement") in owners:
            return plane
    raise DiagramError(f"the file has no diagram of process {process_id!r}: lay it out in a modeler")


def _semantic_index(root: etree._Element) -> dict[str, etree._Element]:
    index: dict[str, etree._Element] = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN:
            continue
        element_id = element.get("id")
        if element_id:
            index[element_id] = element
    return index


def _event_details(element: etree._Element) -> tuple[str | None, bool]:
    for child in element:
        name = local(child)
        if name.endswith("EventDefinition"):
            return name.removesuffix("EventDefinition"), True
    return None, True


def _loop(element: etree._Element) -> str | None:
    for child in element:
        name = local(child)
        if name == "multiInstanceLoopCharacteristics":
            return "sequential" if child.get("isSequential") == "true" else "parallel"
        if name == "standardLoopCharacteristics":
            return "standard"
    return None


# Colours as modelers write them on the DI: the OMG's non-normative extension and bpmn.io's own.
_COLOUR_ATTRIBUTES = {
    "fill": ("{http://www.omg.org/spec/BPMN/non-normative/color/1.0}background-color",
             "{http://bpmn.io/schema/bpmn/biocolor/1.0}fill"),
    "stroke": ("{http://www.omg.org/spec/BPMN/non-normative/color/1.0}border-color",
               "{http://bpmn.io/schema/bpmn/biocolor/1.0}stroke"),
}
_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|rgba?\([0-9., %]{5,40}\)|[a-zA-Z]{3,20})$")


def _colour(node: etree._Element, which: str) -> str | None:
    """A colour the file gives for the shape, only in a form that cannot smuggle anything into the SVG."""
    for attribute in _COLOUR_ATTRIBUTES[which]:
        value = (node.get(attribute) or "").strip()
        if value and _COLOUR.match(value):
            return value
    return None


def _category_value(group: etree._Element) -> str:
    """A group's label is the value of the category value it references (groups have no name)."""
    reference = group.get("categoryValueRef")
    if not reference:
        return group.get("name") or ""
    root = group.getroottree().getroot()
    for value in root.iter(f"{{{BPMN}}}categoryValue"):
        if value.get("id") == reference:
            return value.get("value") or ""
    return ""


def _is_collection(element: etree._Element) -> bool:
    if element.get("isCollection") == "true":
        return True
    if local(element) == "dataObjectReference" and element.get("dataObjectRef"):
        root = element.getroottree().getroot()
        return any(obj.get("isCollection") == "true" for obj in root.iter(f"{{{BPMN}}}dataObject")
                   if obj.get("id") == element.get("dataObjectRef"))
    return False


def _shape(node: etree._Element, element: etree._Element | None, element_id: str) -> Shape | None:
    bounds = _bounds(node.find("dc:Bounds", NS))
    if bounds is None:
        return None
    kind = local(element) if element is not None else "unknown"
    name = (element.get("name") or "") if element is not None else ""
    if kind == "textAnnotation" and element is not None:
        # the annotator's line breaks are kept (wrap() breaks each paragraph on its own)
        name = "\n".join(line.strip() for line in
                         element.findtext("bpmn:text", default="", namespaces=NS).strip().splitlines())
    if kind == "group" and element is not None:
        name = _category_value(element)
    label = _bounds(node.find("bpmndi:BPMNLabel/dc:Bounds", NS))
    shape = Shape(element_id, kind, name, bounds, label=label,
                  horizontal=node.get("isHorizontal", "true") != "false",
                  expanded=node.get("isExpanded") == "true",
                  marker_visible=node.get("isMarkerVisible") == "true",
                  fill=_colour(node, "fill"), stroke=_colour(node, "stroke"))
    if element is not None and kind.endswith("Event"):
        shape.event, _ = _event_details(element)
        shape.interrupting = (element.get("cancelActivity", "true") != "false"
                              and element.get("isInterrupting", "true") != "false")
        shape.throwing = kind in ("endEvent", "intermediateThrowEvent")
    if element is not None:
        shape.loop = _loop(element)
        shape.triggered = element.get("triggeredByEvent") == "true"
        shape.compensation = element.get("isForCompensation") == "true"
        shape.collection = _is_collection(element)
        if kind == "subProcess" and node.get("isExpanded") is None:
            shape.expanded = bounds.width > 200 or bounds.height > 150
    return shape


def _edge(node: etree._Element, element: etree._Element | None, element_id: str) -> Edge:
    points = []
    for point in node.iterfind("di:waypoint", NS):
        try:
            points.append((float(point.get("x", 0)), float(point.get("y", 0))))
        except ValueError:
            continue
    kind = local(element) if element is not None else "unknown"
    edge = Edge(element_id, kind, (element.get("name") or "") if element is not None else "", points,
                label=_bounds(node.find("bpmndi:BPMNLabel/dc:Bounds", NS)))
    if element is not None:
        edge.source, edge.target = element.get("sourceRef"), element.get("targetRef")
        edge.conditional = element.find("bpmn:conditionExpression", NS) is not None
    return edge


def load_diagram(source: str | bytes, process_id: str | None = None) -> Diagram:
    """The shapes and edges of the diagram that shows `process_id` (or of the file's first diagram)."""
    root = parse(source)
    plane = _pick_plane(root, process_id)
    index = _semantic_index(root)
    diagram = Diagram()
    for node in plane:
        element_id = node.get("bpmnElement") or ""
        element = index.get(element_id)
        if node.tag == f"{{{BPMNDI}}}BPMNShape":
            shape = _shape(node, element, element_id)
            if shape is not None:
                diagram.shapes.append(shape)
        elif node.tag == f"{{{BPMNDI}}}BPMNEdge":
            diagram.edges.append(_edge(node, element, element_id))
    defaults = {el.get("default") for el in index.values() if el.get("default")}
    kinds = {shape.element_id: shape.kind for shape in diagram.shapes}
    for edge in diagram.edges:
        edge.is_default = edge.element_id in defaults
        # A condition on a flow leaving a gateway is drawn by the gateway; leaving an activity, by a diamond.
        edge.conditional = edge.conditional and not kinds.get(edge.source or "", "").endswith("Gateway")
    if not diagram.shapes and not diagram.edges:
        raise DiagramError("the diagram interchange (BPMN DI) is empty")
    return diagram

