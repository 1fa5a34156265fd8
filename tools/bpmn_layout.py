"""A small generator of BPMN 2.0 files with diagram interchange (BPMN DI), for Concord's routes.

Why: hand-placing DI coordinates is error-prone. A route is described compactly (lanes, nodes at an x
position in a lane, flows); this renders semantic XML plus shapes and orthogonal edges so the file opens
laid out in bpmn.io / Camunda Modeler. Designers may edit the generated file there afterwards; the
file, not the description, is what gets deployed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

LANE_H = 170
POOL_X, POOL_Y = 40, 40
LANE_X = POOL_X + 30
SIZES = {"task": (110, 80), "gateway": (50, 50), "event": (36, 36), "boundary": (36, 36)}


def attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def props(**kv: str) -> str:
    body = "".join(f'<spiffworkflow:property name="{k}" value="{attr(v)}" />' for k, v in kv.items())
    return f"<spiffworkflow:properties>{body}</spiffworkflow:properties>"


def form(name: str, **extra: str) -> str:
    """Properties of a user task with the form `forms/<name>.schema.json` (+ its UI schema) and `extra`."""
    return props(formJsonSchemaFilename=f"{name}.schema.json", formUiSchemaFilename=f"{name}.uischema.json", **extra)


@dataclass
class Diagram:
    process_id: str
    name: str
    lanes: list[tuple[str, str, str]]  # (lane id, lane name = group or binding, label)
    messages: list[str] = field(default_factory=list)
    nodes: dict[str, dict] = field(default_factory=dict)
    flows: list[tuple] = field(default_factory=list)

    def node(self, id_: str, kind: str, tag: str, name: str, lane: int, x: int, dy: int = 0, **extra) -> None:
        self.nodes[id_] = dict(kind=kind, tag=tag, name=name, lane=lane, x=x, dy=dy, **extra)

    def boundary(self, id_: str, name: str, attached: str, *, message: str | None = None, timer: str | None = None,
                 interrupting: bool = False, variable: str = "overdue", offset: int = 30) -> None:
        task = self.nodes[attached]
        self.node(id_, "boundary", "boundaryEvent", name, task["lane"], task["x"] + offset, dy=task["dy"] + 40,
                  attached=attached, message=message, timer=timer, interrupting=interrupting, variable=variable)
        if message and message not in self.messages:
            self.messages.append(message)

    def flow(self, id_: str, source: str, target: str, name: str = "", condition: str | None = None,
             default: bool = False) -> None:
        self.flows.append((id_, source, target, name, condition, default))

    # geometry -------------------------------------------------------------------------------
    def box(self, nid: str) -> tuple[int, int, int, int]:
        n = self.nodes[nid]
        w, h = SIZES[n["kind"]]
        cy = POOL_Y + n["lane"] * LANE_H + LANE_H // 2 + n["dy"]
        return n["x"] - w // 2, cy - h // 2, w, h

    def centre(self, nid: str) -> tuple[float, float]:
        x, y, w, h = self.box(nid)
        return x + w / 2, y + h / 2

    def waypoints(self, src: str, dst: str) -> list[tuple[float, float]]:
        sx, sy, sw, sh = self.box(src)
        tx, ty, tw, th = self.box(dst)
        (scx, scy), (tcx, tcy) = self.centre(src), self.centre(dst)
        if self.nodes[src]["kind"] == "boundary":  # leave from the bottom, then across
            if abs(scx - tcx) < 1:
                return [(scx, sy + sh), (tcx, ty)]
            if self.nodes[dst]["kind"] == "gateway" and tcy > scy:  # merge into the gateway from above
                return [(scx, sy + sh), (scx, ty - 24), (tcx, ty - 24), (tcx, ty)]
            return [(scx, sy + sh), (scx, tcy), (tx if tcx > scx else tx + tw, tcy)]
        if abs(scy - tcy) < 1 and tcx > scx:
            if self._blocked(src, dst):  # something stands in between: pass over it along the lane's top
                top = POOL_Y + self.nodes[src]["lane"] * LANE_H + 16
                return [(scx, sy), (scx, top), (tcx, top), (tcx, ty)]
            return [(sx + sw, scy), (tx, tcy)]
        if tcx > scx + 1:  # forward into another lane
            if self.nodes[src]["kind"] == "gateway":
                start = (scx, sy + sh) if tcy > scy else (scx, sy)
                return [start, (scx, tcy), (tx, tcy)]
            mx = (sx + sw + tx) / 2
            return [(sx + sw, scy), (mx, scy), (mx, tcy), (tx, tcy)]
        if abs(tcx - scx) < 1:
            return [(scx, sy + sh), (tcx, ty)] if tcy > scy else [(scx, sy), (tcx, ty + th)]
        # backwards: along the lower edge of the lower lane, then up (or down) into the target
        lane = max(self.nodes[src]["lane"], self.nodes[dst]["lane"])
        bottom = POOL_Y + (lane + 1) * LANE_H - 18
        return [(scx, sy + sh), (scx, bottom), (tcx, bottom), (tcx, ty + th)]

    def _blocked(self, src: str, dst: str) -> bool:
        (scx, scy), (tcx, _) = self.centre(src), self.centre(dst)
        for nid, n in self.nodes.items():
            if nid in (src, dst) or n["lane"] != self.nodes[src]["lane"] or n["kind"] == "boundary":
                continue
            x, y, w, h = self.box(nid)
            if scx < x and x + w < tcx and y <= scy <= y + h:
                return True
        return False

    # XML --------------------------------------------------------------------------------------
    def _semantic(self) -> list[str]:
        incoming: dict[str, list[str]] = {k: [] for k in self.nodes}
        outgoing: dict[str, list[str]] = {k: [] for k in self.nodes}
        for fid, s, t, *_ in self.flows:
            outgoing[s].append(fid)
            incoming[t].append(fid)
        out = []
        for nid, n in self.nodes.items():
            attrs = f'id="{nid}" name="{attr(n["name"])}"'
            default = next((f[0] for f in self.flows if f[1] == nid and f[5]), None)
            if default:
                attrs += f' default="{default}"'
            if n.get("called"):
                attrs += f' calledElement="{n["called"]}"'
            body = f"<bpmn:extensionElements>{n['ext']}</bpmn:extensionElements>" if n.get("ext") else ""
            body += "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming[nid])
            body += "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing[nid])
            if n.get("multi"):  # parallel multi-instance: one instance per item of a list variable
                collection, item = n["multi"]
                body += ('<bpmn:multiInstanceLoopCharacteristics>'
                         f"<bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>"
                         f'<bpmn:inputDataItem id="{item}" name="{item}" />'
                         "</bpmn:multiInstanceLoopCharacteristics>")
            if n.get("script"):
                body += f"<bpmn:script>{escape(n['script'])}</bpmn:script>"
                attrs += ' scriptFormat="python"'
            if n.get("attached"):
                attrs += f' attachedToRef="{n["attached"]}" cancelActivity="{str(n["interrupting"]).lower()}"'
                if n.get("message"):
                    body += (f'<bpmn:messageEventDefinition id="{nid}_def" messageRef="msg_{n["message"]}">'
                             f"<bpmn:extensionElements><spiffworkflow:messageVariable>{n['variable']}"
                             "</spiffworkflow:messageVariable></bpmn:extensionElements></bpmn:messageEventDefinition>")
                if n.get("timer"):
                    body += (f'<bpmn:timerEventDefinition id="{nid}_def"><bpmn:timeDuration '
                             f'xsi:type="bpmn:tFormalExpression">{escape(n["timer"])}</bpmn:timeDuration>'
                             "</bpmn:timerEventDefinition>")
            if n.get("terminate"):
                body += f'<bpmn:terminateEventDefinition id="{nid}_def" />'
            out.append(f"    <bpmn:{n['tag']} {attrs}>{body}</bpmn:{n['tag']}>")
        for fid, s, t, name, cond, _ in self.flows:
            nm = f' name="{attr(name)}"' if name else ""
            if cond:
                out.append(f'    <bpmn:sequenceFlow id="{fid}"{nm} sourceRef="{s}" targetRef="{t}">'
                           f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(cond)}'
                           "</bpmn:conditionExpression></bpmn:sequenceFlow>")
            else:
                out.append(f'    <bpmn:sequenceFlow id="{fid}"{nm} sourceRef="{s}" targetRef="{t}" />')
        return out

    def _lanes(self) -> list[str]:
        out = [f'    <bpmn:laneSet id="lanes_{self.process_id}">']
        for i, (lid, name, label) in enumerate(self.lanes):
            refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n, d in self.nodes.items() if d["lane"] == i)
            out.append(f'      <bpmn:lane id="{lid}" name="{name}"><bpmn:documentation>{escape(label)}'
                       f"</bpmn:documentation>{refs}</bpmn:lane>")
        out.append("    </bpmn:laneSet>")
        return out

    def _diagram(self) -> list[str]:
        pid = self.process_id
        width = max(n["x"] for n in self.nodes.values()) + 120 - POOL_X
        out = [f'  <bpmndi:BPMNDiagram id="diagram_{pid}">',
               f'    <bpmndi:BPMNPlane id="plane_{pid}" bpmnElement="collaboration_{pid}">',
               f'      <bpmndi:BPMNShape id="participant_{pid}_di" bpmnElement="participant_{pid}" '
               f'isHorizontal="true"><dc:Bounds x="{POOL_X}" y="{POOL_Y}" width="{width}" '
               f'height="{LANE_H * len(self.lanes)}" /></bpmndi:BPMNShape>']
        for i, (lid, *_rest) in enumerate(self.lanes):
            out.append(f'      <bpmndi:BPMNShape id="{lid}_di" bpmnElement="{lid}" isHorizontal="true">'
                       f'<dc:Bounds x="{LANE_X}" y="{POOL_Y + i * LANE_H}" width="{width - 30}" height="{LANE_H}" />'
                       "</bpmndi:BPMNShape>")
        for nid, n in self.nodes.items():
            x, y, w, h = self.box(nid)
            marker = ' isMarkerVisible="true"' if n["kind"] == "gateway" else ""
            expanded = ' isExpanded="false"' if n["tag"] == "callActivity" else ""
            label = ""
            if n["kind"] != "task" and n["name"]:
                label = (f'<bpmndi:BPMNLabel><dc:Bounds x="{x - 20}" y="{y + h + 4}" width="{w + 40}" height="14" />'
                         "</bpmndi:BPMNLabel>")
            out.append(f'      <bpmndi:BPMNShape id="{nid}_di" bpmnElement="{nid}"{marker}{expanded}>'
                       f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />{label}</bpmndi:BPMNShape>')
        for fid, s, t, name, *_ in self.flows:
            pts = self.waypoints(s, t)
            wps = "".join(f'<di:waypoint x="{px:g}" y="{py:g}" />' for px, py in pts)
            label = ""
            if name:
                (ax, ay), (_, by) = pts[0], pts[1]
                width = 13 * len(name)  # CJK text: about one em per character
                if abs(ay - by) < 1:  # horizontal first leg: above it, from its start
                    x, y = ax + 4, ay - 18
                else:  # vertical first leg: beside it, halfway
                    x, y = ax + 6, (ay + by) / 2 - 7
                label = (f'<bpmndi:BPMNLabel><dc:Bounds x="{x:g}" y="{y:g}" width="{width}" height="14" />'
                         "</bpmndi:BPMNLabel>")
            out.append(f'      <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">{wps}{label}</bpmndi:BPMNEdge>')
        out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
        return out

    def render(self, generator: str) -> str:
        pid = self.process_id
        head = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
            f'id="definitions_{pid}" targetNamespace="http://concord.example/bpmn" '
            f'exporter="Concord {generator}" exporterVersion="1">',
            f'  <bpmn:collaboration id="collaboration_{pid}">',
            f'    <bpmn:participant id="participant_{pid}" name="{attr(self.name)}" processRef="{pid}" />',
            "  </bpmn:collaboration>",
        ]
        head += [f'  <bpmn:message id="msg_{m}" name="{m}" />' for m in self.messages]
        head.append(f'  <bpmn:process id="{pid}" name="{attr(self.name)}" isExecutable="true">')
        lines = head + self._lanes() + self._semantic() + ["  </bpmn:process>"] + self._diagram()
        return "\n".join(lines + ["</bpmn:definitions>"]) + "\n"
