"""Regenerate processes/dispute_case.bpmn from a compact description, with diagram interchange.

Why a generator: hand-placing BPMN DI coordinates is error-prone; designers may still edit the
generated file in bpmn.io / Camunda Modeler afterwards (the file, not this script, is the source
of truth once deployed). Run: python tools/layout_route.py > processes/dispute_case.bpmn
"""
from __future__ import annotations

import sys
from xml.sax.saxutils import escape

LANE_H = 170
POOL_X, POOL_Y = 40, 40
LANE_X = POOL_X + 30
LANES = [  # (id, name = group code or binding, label)
    ("lane_intake", "intake", "窗口受理 intake"),
    ("lane_dispatch", "dispatch", "分流交办 dispatch"),
    ("lane_department", "department", "承办部门 department（运行时绑定 handling_group）"),
    ("lane_supervisor", "supervisor", "督办 supervisor"),
]
SIZES = {"task": (110, 80), "gateway": (50, 50), "event": (36, 36), "boundary": (36, 36)}
# Time limits (working days unless timeLimitCalendar says "calendar"), read by Concord to compute due
# instants and the escalation ladder. Python expressions evaluated in the task's data.
HANDLE_LIMIT = ('"P15D" if handling_group == "labor" else '
                '{"simple": "P1D", "general": "P7D", "complex": "P20D"}[complexity]')
HANDLE_CALENDAR = '"calendar" if handling_group == "labor" else "working"'
MESSAGES = ("overdue_sign_for", "overdue_handle", "overdue_feedback")

# id: (kind, bpmn tag, name, lane index, x centre, y offset in lane, extras)
NODES: dict[str, dict] = {}


def node(id_, kind, tag, name, lane, x, dy=0, **extra):
    NODES[id_] = dict(kind=kind, tag=tag, name=name, lane=lane, x=x, dy=dy, **extra)


def quoteattr_value(value):
    return escape(value, {'"': "&quot;"})


def props(**kv):
    body = "".join(f'<spiffworkflow:property name="{k}" value="{quoteattr_value(v)}" />' for k, v in kv.items())
    return f"<spiffworkflow:properties>{body}</spiffworkflow:properties>"


node("registered", "event", "startEvent", "受理登记", 0, 110,
     ext=props(formJsonSchemaFilename="register_case.schema.json", formUiSchemaFilename="register_case.uischema.json"))
node("init_case", "task", "scriptTask", "登记初始化", 0, 220, script="reopen_count = 0")
node("gw_classified", "gateway", "exclusiveGateway", "已分类？", 0, 350)
node("triage", "task", "userTask", "分类研判", 0, 470,
     ext=props(formJsonSchemaFilename="triage.schema.json", formUiSchemaFilename="triage.uischema.json",
               caseStatus="registered", timeLimit='"P1D"'))
node("gw_triaged", "gateway", "exclusiveGateway", "", 0, 590)
node("route_case", "task", "businessRuleTask", "路由规则", 1, 590,
     ext="<spiffworkflow:calledDecisionId>routing</spiffworkflow:calledDecisionId>")
node("gw_to_dispatch", "gateway", "exclusiveGateway", "", 1, 720)
node("dispatch", "task", "userTask", "分流交办", 1, 840,
     ext=props(formJsonSchemaFilename="dispatch.schema.json", formUiSchemaFilename="dispatch.uischema.json",
               caseStatus="registered", timeLimit='"P1D"'))
node("sign_for", "task", "userTask", "签收", 2, 980,
     ext=props(formJsonSchemaFilename="sign_for.schema.json", formUiSchemaFilename="sign_for.uischema.json",
               candidateGroups="handling_group", caseStatus="dispatched", timeLimit='"P1D"'))
node("gw_accepted", "gateway", "exclusiveGateway", "签收？", 2, 1110)
node("handle", "task", "userTask", "办理/调解", 2, 1240,
     ext=props(formJsonSchemaFilename="handle.schema.json", formUiSchemaFilename="handle.uischema.json",
               candidateGroups="handling_group", caseStatus="handling", procedure="mediation",
               timeLimit=HANDLE_LIMIT, timeLimitCalendar=HANDLE_CALENDAR))
node("gw_outcome", "gateway", "exclusiveGateway", "办理结果", 2, 1370)
node("refer_to_roadmap", "task", "scriptTask", "转入法治化路线图（登记去向）", 2, 1500, dy=0,
     script='referral = {"from": outcome, "status": "pending_roadmap"}')
node("gw_handled", "gateway", "exclusiveGateway", "", 0, 1630)
node("feedback", "task", "userTask", "反馈回访", 0, 1750,
     ext=props(formJsonSchemaFilename="feedback.schema.json", formUiSchemaFilename="feedback.uischema.json",
               caseStatus="feedback", timeLimit='"P5D"'))
node("gw_satisfied", "gateway", "exclusiveGateway", "满意？", 0, 1880)
node("reopen_case", "task", "scriptTask", "重新交办（限一次）", 1, 1880, script="reopen_count = reopen_count + 1")
node("closed", "event", "endEvent", "办结归档", 0, 2010, terminate=True)
# The escalation ladder: when Concord's timer service finds a node overdue (its working-day limit passed)
# it sends the message overdue_<task id>; the non-interrupting boundary event opens a supervision task
# while the handler keeps working. Completing the task it watches withdraws the boundary event.
for watched, x in (("sign_for", 980), ("handle", 1240), ("feedback", 1750)):
    lane = NODES[watched]["lane"]
    node(f"overdue_{watched}", "boundary", "boundaryEvent", "超期督办", lane, x + 30, dy=40,
         attached=watched, message=f"overdue_{watched}")
node("gw_supervise", "gateway", "exclusiveGateway", "", 3, 1400)
node("supervise", "task", "userTask", "督办", 3, 1560,
     ext=props(formJsonSchemaFilename="supervise.schema.json", formUiSchemaFilename="supervise.uischema.json",
               onComplete="supervision", timeLimit='"P1D"'))
node("supervised", "event", "endEvent", "督办完成", 3, 1700)

# (id, source, target, name, condition or None, is_default, route) route: None = auto, or list of extra points
FLOWS = [
    ("f_start", "registered", "init_case", "", None, False),
    ("f_init", "init_case", "gw_classified", "", None, False),
    ("f_unclassified", "gw_classified", "triage", "未分类", "not category", False),
    ("f_classified", "gw_classified", "gw_triaged", "已分类", None, True),
    ("f_triaged", "triage", "gw_triaged", "", None, False),
    ("f_route", "gw_triaged", "route_case", "", None, False),
    ("f_routed", "route_case", "gw_to_dispatch", "", None, False),
    ("f_dispatch", "gw_to_dispatch", "dispatch", "", None, False),
    ("f_dispatched", "dispatch", "sign_for", "", None, False),
    ("f_signed", "sign_for", "gw_accepted", "", None, False),
    ("f_accepted", "gw_accepted", "handle", "签收", "accepted", False),
    ("f_returned", "gw_accepted", "gw_to_dispatch", "退回（须说明理由）", None, True),
    ("f_handled", "handle", "gw_outcome", "", None, False),
    ("f_resolved", "gw_outcome", "gw_handled", "化解/撤回", None, True),
    ("f_failed", "gw_outcome", "refer_to_roadmap", "调解不成/拒绝调解",
     'outcome in ("mediation_failed", "mediation_refused")', False),
    ("f_referred", "refer_to_roadmap", "gw_handled", "", None, False),
    ("f_to_feedback", "gw_handled", "feedback", "", None, False),
    ("f_visited", "feedback", "gw_satisfied", "", None, False),
    ("f_reopen", "gw_satisfied", "reopen_case", "不满意（首次）", "not satisfied and reopen_count < 1", False),
    ("f_reopened", "reopen_case", "gw_to_dispatch", "", None, False),
    ("f_close", "gw_satisfied", "closed", "满意或已重办", None, True),
    ("f_overdue_sign_for", "overdue_sign_for", "gw_supervise", "", None, False),
    ("f_overdue_handle", "overdue_handle", "gw_supervise", "", None, False),
    ("f_overdue_feedback", "overdue_feedback", "gw_supervise", "", None, False),
    ("f_supervise", "gw_supervise", "supervise", "", None, False),
    ("f_supervised", "supervise", "supervised", "", None, False),
]


def box(nid):
    n = NODES[nid]
    w, h = SIZES[n["kind"]]
    cy = POOL_Y + n["lane"] * LANE_H + LANE_H // 2 + n["dy"]
    return n["x"] - w // 2, cy - h // 2, w, h


def centre(nid):
    x, y, w, h = box(nid)
    return x + w / 2, y + h / 2


def waypoints(src, dst):
    if NODES[src]["kind"] == "boundary":
        (scx, _), (tcx, tcy) = centre(src), centre(dst)
        sx, sy, sw, sh = box(src)
        tx = box(dst)[0]
        if abs(scx - tcx) < 1:
            return [(scx, sy + sh), (tcx, box(dst)[1])]
        return [(scx, sy + sh), (scx, tcy), (tx if tcx > scx else tx + box(dst)[2], tcy)]
    sx, sy, sw, sh = box(src)
    tx, ty, tw, th = box(dst)
    (scx, scy), (tcx, tcy) = centre(src), centre(dst)
    if abs(scy - tcy) < 1 and tcx > scx:
        return [(sx + sw, scy), (tx, tcy)]
    if tcx > scx + 1:  # forward, different lane: leave right, drop/rise, enter left
        if NODES[src]["kind"] == "gateway":  # gateways leave from top/bottom towards the target lane
            start = (scx, sy + sh) if tcy > scy else (scx, sy)
            return [start, (scx, tcy), (tx, tcy)]
        mx = (sx + sw + tx) / 2
        return [(sx + sw, scy), (mx, scy), (mx, tcy), (tx, tcy)]
    if abs(tcx - scx) < 1:  # straight down or up
        return [(scx, sy + sh), (tcx, ty)] if tcy > scy else [(scx, sy), (tcx, ty + th)]
    # backwards: leave at the bottom, run along the lane's lower edge, come up into the target
    lane_bottom = POOL_Y + (NODES[src]["lane"] + 1) * LANE_H - 18
    if tcy > scy:
        lane_bottom = POOL_Y + (NODES[dst]["lane"] + 1) * LANE_H - 18
    return [(scx, sy + sh), (scx, lane_bottom), (tcx, lane_bottom), (tcx, ty + th)]


def semantic():
    out = []
    incoming = {k: [] for k in NODES}
    outgoing = {k: [] for k in NODES}
    for fid, s, t, *_ in FLOWS:
        outgoing[s].append(fid)
        incoming[t].append(fid)
    for nid, n in NODES.items():
        attrs = f'id="{nid}" name="{escape(n["name"])}"'
        default = next((f[0] for f in FLOWS if f[1] == nid and f[5]), None)
        if default:
            attrs += f' default="{default}"'
        body = ""
        if n.get("ext"):
            body += f"<bpmn:extensionElements>{n['ext']}</bpmn:extensionElements>"
        body += "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming[nid])
        body += "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing[nid])
        if n.get("script"):
            body += f"<bpmn:script>{escape(n['script'])}</bpmn:script>"
            attrs += ' scriptFormat="python"'
        if n.get("attached"):
            attrs += f' attachedToRef="{n["attached"]}" cancelActivity="false"'
            body += (f'<bpmn:messageEventDefinition id="{nid}_def" messageRef="msg_{n["message"]}">'
                     "<bpmn:extensionElements><spiffworkflow:messageVariable>overdue</spiffworkflow:messageVariable>"
                     "</bpmn:extensionElements></bpmn:messageEventDefinition>")
        if n.get("terminate"):
            body += f'<bpmn:terminateEventDefinition id="{nid}_def" />'
        out.append(f"    <bpmn:{n['tag']} {attrs}>{body}</bpmn:{n['tag']}>")
    for fid, s, t, name, cond, _ in FLOWS:
        nm = f' name="{escape(name)}"' if name else ""
        if cond:
            out.append(f'    <bpmn:sequenceFlow id="{fid}"{nm} sourceRef="{s}" targetRef="{t}">'
                       f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(cond)}'
                       f"</bpmn:conditionExpression></bpmn:sequenceFlow>")
        else:
            out.append(f'    <bpmn:sequenceFlow id="{fid}"{nm} sourceRef="{s}" targetRef="{t}" />')
    return out


def lanes():
    out = ['    <bpmn:laneSet id="lanes_dispute_case">']
    for i, (lid, name, label) in enumerate(LANES):
        refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n, d in NODES.items() if d["lane"] == i)
        out.append(f'      <bpmn:lane id="{lid}" name="{name}"><bpmn:documentation>{escape(label)}'
                   f"</bpmn:documentation>{refs}</bpmn:lane>")
    out.append("    </bpmn:laneSet>")
    return out


def diagram():
    width = max(n["x"] for n in NODES.values()) + 120 - POOL_X
    out = ['  <bpmndi:BPMNDiagram id="diagram_dispute_case">',
           '    <bpmndi:BPMNPlane id="plane_dispute_case" bpmnElement="collaboration_dispute_case">',
           f'      <bpmndi:BPMNShape id="participant_dispute_case_di" bpmnElement="participant_dispute_case" '
           f'isHorizontal="true"><dc:Bounds x="{POOL_X}" y="{POOL_Y}" width="{width}" '
           f'height="{LANE_H * len(LANES)}" /></bpmndi:BPMNShape>']
    for i, (lid, *_rest) in enumerate(LANES):
        out.append(f'      <bpmndi:BPMNShape id="{lid}_di" bpmnElement="{lid}" isHorizontal="true">'
                   f'<dc:Bounds x="{LANE_X}" y="{POOL_Y + i * LANE_H}" width="{width - 30}" height="{LANE_H}" />'
                   f"</bpmndi:BPMNShape>")
    for nid, n in NODES.items():
        x, y, w, h = box(nid)
        marker = ' isMarkerVisible="true"' if n["kind"] == "gateway" else ""
        label = ""
        if n["kind"] != "task" and n["name"]:
            label = (f'<bpmndi:BPMNLabel><dc:Bounds x="{x - 20}" y="{y + h + 4}" width="{w + 40}" height="14" />'
                     f"</bpmndi:BPMNLabel>")
        out.append(f'      <bpmndi:BPMNShape id="{nid}_di" bpmnElement="{nid}"{marker}>'
                   f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />{label}</bpmndi:BPMNShape>')
    for fid, s, t, name, *_ in FLOWS:
        pts = waypoints(s, t)
        wps = "".join(f'<di:waypoint x="{px:g}" y="{py:g}" />' for px, py in pts)
        label = ""
        if name:
            (ax, ay), (bx, by) = pts[0], pts[1]
            label = (f'<bpmndi:BPMNLabel><dc:Bounds x="{(ax + bx) / 2 + 4:g}" y="{(ay + by) / 2 - 18:g}" '
                     f'width="90" height="14" /></bpmndi:BPMNLabel>')
        out.append(f'      <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">{wps}{label}</bpmndi:BPMNEdge>')
    out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
    return out


def main():
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'id="definitions_dispute_case" targetNamespace="http://concord.example/bpmn" '
        'exporter="Concord layout_route.py" exporterVersion="1">',
        '  <bpmn:collaboration id="collaboration_dispute_case">',
        '    <bpmn:participant id="participant_dispute_case" name="矛盾纠纷闭环流转" processRef="dispute_case" />',
        "  </bpmn:collaboration>",
        '  <bpmn:process id="dispute_case" name="矛盾纠纷闭环流转" isExecutable="true">',
    ]
    body = lanes() + semantic()
    messages = [f'  <bpmn:message id="msg_{m}" name="{m}" />' for m in MESSAGES]
    lines = head[:-1] + messages + head[-1:] + body + ["  </bpmn:process>"] + diagram() + ["</bpmn:definitions>"]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
