"""Regenerate processes/dispute_case.bpmn (the closed loop) with its layout.

Run: python tools/layout_route.py > processes/dispute_case.bpmn   (see tools/bpmn_layout.py for why)

Task properties Concord reads (Python expressions over the task's data, except the form file names):
caseStatus, procedure, candidateGroups, timeLimit (ISO 8601 duration), timeLimitCalendar ("working" or
"calendar"), onComplete ("supervision"), formJsonSchemaFilename, formUiSchemaFilename.
"""
from __future__ import annotations

import sys

from bpmn_layout import Diagram, form, props

HANDLE_LIMIT = ('"P15D" if handling_group == "labor" else '
                '{"simple": "P1D", "general": "P7D", "complex": "P20D"}[complexity]')
# Variables later gateways and tables read, so that a form leaving an optional field empty cannot break them.
INIT = "reopen_count = 0\npublic_body_act = False\npreferred_channel = None\napply_judicial_confirmation = False"
HANDLE_CALENDAR = '"calendar" if handling_group == "labor" else "working"'
# A court that refuses to confirm the agreement leaves the dispute unsettled: the case takes the roadmap
# as a failed mediation does, and is not counted as resolved (whether the court's answer came by message
# or was recorded by the centre).
REFUSED = 'if not confirmed:\n    outcome = "mediation_failed"'


def build() -> Diagram:
    d = Diagram("dispute_case", "矛盾纠纷闭环流转", [
        ("lane_intake", "intake", "窗口受理 intake"),
        ("lane_dispatch", "dispatch", "分流交办 dispatch"),
        ("lane_department", "department", "承办部门 department（运行时绑定 handling_group）"),
        ("lane_supervisor", "supervisor", "督办 supervisor"),
    ])
    n = d.node
    n("registered", "event", "startEvent", "受理登记", 0, 110,
      ext=props(formJsonSchemaFilename="register_case.schema.json", formUiSchemaFilename="register_case.uischema.json"))
    n("init_case", "task", "scriptTask", "登记初始化", 0, 220,
      script=INIT)
    n("gw_classified", "gateway", "exclusiveGateway", "已分类？", 0, 350)
    n("triage", "task", "userTask", "分类研判", 0, 470,
      ext=form("triage", caseStatus='"registered"', timeLimit='"P1D"'))
    n("gw_triaged", "gateway", "exclusiveGateway", "", 0, 590)
    n("route_case", "task", "businessRuleTask", "路由规则", 1, 590,
      ext="<spiffworkflow:calledDecisionId>routing</spiffworkflow:calledDecisionId>")
    n("gw_to_dispatch", "gateway", "exclusiveGateway", "", 1, 720)
    n("dispatch", "task", "userTask", "分流交办", 1, 840,
      ext=form("dispatch", caseStatus='"registered"', timeLimit='"P1D"'))
    n("sign_for", "task", "userTask", "签收", 2, 980, ext=form(
        "sign_for", candidateGroups="handling_group", caseStatus='"dispatched"', timeLimit='"P1D"'))
    n("gw_accepted", "gateway", "exclusiveGateway", "签收？", 2, 1110)
    n("handle", "task", "userTask", "办理/调解", 2, 1240, ext=form(
        "handle", candidateGroups="handling_group", caseStatus='"handling"', procedure='"mediation"',
        timeLimit=HANDLE_LIMIT, timeLimitCalendar=HANDLE_CALENDAR))
    n("gw_outcome", "gateway", "exclusiveGateway", "办理结果", 2, 1370)
    # Judicial confirmation (司法确认): a joint application within 30 days of the agreement, then the court.
    n("apply_confirmation", "task", "userTask", "申请司法确认", 2, 1500, ext=form(
        "apply_confirmation", candidateGroups="handling_group", caseStatus='"handling"',
        procedure='"judicial_confirmation"', timeLimit='"P30D"', timeLimitCalendar='"calendar"'))
    n("gw_applied", "gateway", "exclusiveGateway", "已申请？", 2, 1640)
    n("window_expired", "task", "scriptTask", "申请期限届满", 2, 1780,
      script='judicial_confirmation = "window_expired"')
    n("await_confirmation", "task", "userTask", "等待法院确认", 1, 1780, ext=form(
        "await_confirmation", caseStatus='"handling"', procedure='"judicial_confirmation"', timeLimit='"P30D"',
        timeLimitCalendar='"calendar"') + f"<spiffworkflow:postScript>{REFUSED}</spiffworkflow:postScript>")
    n("record_court_decision", "task", "scriptTask", "登记法院裁定", 1, 1910,
      script='confirmed = bool(court_decision.get("confirmed"))\ncourt_document = court_decision.get("document_no")\n'
             + REFUSED)
    n("gw_confirmed", "gateway", "exclusiveGateway", "确认有效？", 1, 2040)
    n("refer_to_roadmap", "task", "callActivity", "法治化路线图", 2, 2040, called="roadmap")
    n("gw_handled", "gateway", "exclusiveGateway", "", 0, 2170)
    n("feedback", "task", "userTask", "反馈回访", 0, 2290, ext=form("feedback", caseStatus='"feedback"',
                                                                   timeLimit='"P5D"'))
    n("gw_satisfied", "gateway", "exclusiveGateway", "满意？", 0, 2420)
    n("reopen_case", "task", "scriptTask", "重新交办（限一次）", 1, 2420, script="reopen_count = reopen_count + 1")
    n("closed", "event", "endEvent", "办结归档", 0, 2550, terminate=True)
    # The escalation ladder: when Concord's timer service finds a node overdue it sends overdue_<task id>;
    # the non-interrupting boundary event opens a supervision task while the handler keeps working.
    for watched in ("sign_for", "handle", "feedback"):
        d.boundary(f"overdue_{watched}", "超期督办", watched, message=f"overdue_{watched}")
    d.boundary("confirmation_window", "30日内未申请", "apply_confirmation", timer='"P30D"', interrupting=True)
    d.boundary("court_decided", "法院裁定", "await_confirmation", message="judicial_confirmation_decided",
               interrupting=True, variable="court_decision")
    n("gw_supervise", "gateway", "exclusiveGateway", "", 3, 1400)
    n("supervise", "task", "userTask", "督办", 3, 1560, ext=form("supervise", onComplete="supervision",
                                                               timeLimit='"P1D"'))
    n("supervised", "event", "endEvent", "督办完成", 3, 1700)

    f = d.flow
    f("f_start", "registered", "init_case")
    f("f_init", "init_case", "gw_classified")
    f("f_unclassified", "gw_classified", "triage", "未分类", "not category")
    f("f_classified", "gw_classified", "gw_triaged", "已分类", default=True)
    f("f_triaged", "triage", "gw_triaged")
    f("f_route", "gw_triaged", "route_case")
    f("f_routed", "route_case", "gw_to_dispatch")
    f("f_dispatch", "gw_to_dispatch", "dispatch")
    f("f_dispatched", "dispatch", "sign_for")
    f("f_signed", "sign_for", "gw_accepted")
    f("f_accepted", "gw_accepted", "handle", "签收", "accepted")
    f("f_returned", "gw_accepted", "gw_to_dispatch", "退回（须说明理由）", default=True)
    f("f_handled", "handle", "gw_outcome")
    f("f_resolved", "gw_outcome", "gw_handled", "化解/撤回", default=True)
    f("f_confirm", "gw_outcome", "apply_confirmation", "申请司法确认",
      'outcome == "resolved" and apply_judicial_confirmation')
    f("f_failed", "gw_outcome", "refer_to_roadmap", "调解不成/拒绝调解",
      'outcome in ("mediation_failed", "mediation_refused")')
    f("f_apply", "apply_confirmation", "gw_applied")
    f("f_applied", "gw_applied", "await_confirmation", "已申请", "applied")
    f("f_not_applied", "gw_applied", "gw_handled", "不申请", default=True)
    f("f_window", "confirmation_window", "window_expired")
    f("f_window_done", "window_expired", "gw_handled")
    f("f_court_message", "court_decided", "record_court_decision")
    f("f_recorded", "record_court_decision", "gw_confirmed")
    f("f_court_manual", "await_confirmation", "gw_confirmed")
    f("f_confirmed", "gw_confirmed", "gw_handled", "确认有效", "confirmed")
    f("f_refused", "gw_confirmed", "refer_to_roadmap", "不予确认", default=True)
    f("f_roadmap_done", "refer_to_roadmap", "gw_handled")
    f("f_to_feedback", "gw_handled", "feedback")
    f("f_visited", "feedback", "gw_satisfied")
    f("f_reopen", "gw_satisfied", "reopen_case", "不满意（首次）", "not satisfied and reopen_count < 1")
    f("f_reopened", "reopen_case", "gw_to_dispatch")
    f("f_close", "gw_satisfied", "closed", "满意或已重办", default=True)
    for watched in ("sign_for", "handle", "feedback"):
        f(f"f_overdue_{watched}", f"overdue_{watched}", "gw_supervise")
    f("f_supervise", "gw_supervise", "supervise")
    f("f_supervised", "supervise", "supervised")
    return d


if __name__ == "__main__":
    sys.stdout.write(build().render("tools/layout_route.py"))
