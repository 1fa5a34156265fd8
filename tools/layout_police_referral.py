"""Regenerate processes/police_referral.bpmn (110 非警务警情联调联处) with its layout.

Run: python tools/layout_police_referral.py > processes/police_referral.bpmn   (see tools/bpmn_layout.py for why)

Suzhou's practice for non-police 110 incidents that risk turning criminal (民转刑): the police station
handles first (公安首接调处); what it cannot settle goes to the centre's joint handling (综治中心联调联处),
after which the responsible department follows up (属事部门跟进干预); then the feedback visit and close.
A high 民转刑 risk — on the referral, or raised at any handling step — opens a supervision task for the
centre's supervisors at once, beside the work (an inclusive gateway: the case goes on, it does not wait).
"""
from __future__ import annotations

import sys

from bpmn_layout import Diagram, form, props

INIT = "risk_before = None\nreopen_count = 0\noutcome = None"
# Each handling step remembers the risk as it found it: the gateway after it opens a supervision task only
# when the step raised the risk to high (a risk that was high already was escalated when it became so).
REMEMBER_RISK = "<spiffworkflow:preScript>risk_before = risk_level</spiffworkflow:preScript>"
BECAME_HIGH = 'risk_level == "high" and risk_before != "high"'
STEPS = ("police_handle", "joint_handle", "follow_up", "feedback")


def build() -> Diagram:
    d = Diagram("police_referral", "110非警务警情联调联处", [
        ("lane_police", "police", "公安派出所 police（首接调处）"),
        ("lane_joint", "joint", "综治中心联调联处 joint"),
        ("lane_referral_department", "department", "属事部门 department（运行时绑定 handling_group）"),
        ("lane_referral_intake", "intake", "反馈回访 intake"),
        ("lane_referral_supervisor", "supervisor", "督办 supervisor"),
    ])
    n = d.node
    n("referred", "event", "startEvent", "警情移交", 0, 110, ext=props(
        formJsonSchemaFilename="police_referral.schema.json", formUiSchemaFilename="police_referral.uischema.json"))
    n("init_referral", "task", "scriptTask", "登记初始化", 0, 230, script=INIT)
    n("gw_risk_referred", "gateway", "inclusiveGateway", "民转刑高风险？", 0, 360)
    n("police_handle", "task", "userTask", "公安首接调处", 0, 490, ext=form(
        "police_handle", caseStatus='"handling"', procedure='"police_mediation"', timeLimit='"P3D"')
      + REMEMBER_RISK)
    n("gw_risk_police", "gateway", "inclusiveGateway", "", 0, 620)
    n("gw_settled", "gateway", "exclusiveGateway", "现场化解？", 0, 740)
    n("settled_by_police", "task", "scriptTask", "公安调处化解", 0, 870, script='outcome = "resolved"')
    n("suggest_department", "task", "businessRuleTask", "属事部门建议", 1, 870,
      ext="<spiffworkflow:calledDecisionId>routing</spiffworkflow:calledDecisionId>")
    n("gw_joint", "gateway", "exclusiveGateway", "", 1, 990)
    n("joint_handle", "task", "userTask", "联调联处", 1, 1110, ext=form(
        "joint_handle", caseStatus='"handling"', procedure='"joint_mediation"', timeLimit='"P7D"')
      + REMEMBER_RISK)
    n("gw_risk_joint", "gateway", "inclusiveGateway", "", 1, 1240)
    n("follow_up", "task", "userTask", "属事部门跟进", 2, 1370, ext=form(
        "follow_up", candidateGroups="handling_group", caseStatus='"handling"',
        procedure='"department_follow_up"', timeLimit='"P10D"') + REMEMBER_RISK)
    n("gw_risk_follow_up", "gateway", "inclusiveGateway", "", 2, 1500)
    n("gw_to_feedback", "gateway", "exclusiveGateway", "", 3, 1620)
    n("feedback", "task", "userTask", "反馈回访", 3, 1740, ext=form("feedback", caseStatus='"feedback"',
                                                                   timeLimit='"P5D"'))
    n("gw_satisfied", "gateway", "exclusiveGateway", "满意？", 3, 1870)
    n("reopen_referral", "task", "scriptTask", "重新联调（限一次）", 1, 1870, script="reopen_count = reopen_count + 1")
    n("closed", "event", "endEvent", "办结归档", 3, 2000, terminate=True)
    # 民转刑 risk: supervision at once, in parallel with the handling.
    n("gw_risk_supervise", "gateway", "exclusiveGateway", "", 4, 1640, dy=-35)
    n("supervise_risk", "task", "userTask", "民转刑风险督办", 4, 1770, dy=-35, ext=form(
        "supervise_risk", timeLimit='"P1D"'))
    n("risk_supervised", "event", "endEvent", "风险督办完成", 4, 1900, dy=-35)
    # The escalation ladder, as in dispute_case: overdue_<task id> from the timer service opens 督办.
    for watched in STEPS:
        d.boundary(f"overdue_{watched}", "超期督办", watched, message=f"overdue_{watched}")
    n("gw_supervise", "gateway", "exclusiveGateway", "", 4, 1060, dy=35)
    n("supervise", "task", "userTask", "督办", 4, 1190, dy=35, ext=form("supervise", onComplete="supervision",
                                                               timeLimit='"P1D"'))
    n("supervised", "event", "endEvent", "督办完成", 4, 1320, dy=35)

    f = d.flow
    f("p_start", "referred", "init_referral")
    f("p_init", "init_referral", "gw_risk_referred")
    f("p_police", "gw_risk_referred", "police_handle", "", "True")
    f("p_risk_referred", "gw_risk_referred", "gw_risk_supervise", "高风险", 'risk_level == "high"')
    f("p_police_done", "police_handle", "gw_risk_police")
    f("p_after_police", "gw_risk_police", "gw_settled", "", "True")
    f("p_risk_police", "gw_risk_police", "gw_risk_supervise", "升为高风险", BECAME_HIGH)
    f("p_settled", "gw_settled", "settled_by_police", "已化解", "settled")
    f("p_unsettled", "gw_settled", "suggest_department", "未化解，移交联调联处", default=True)
    f("p_police_resolved", "settled_by_police", "gw_to_feedback")
    f("p_suggested", "suggest_department", "gw_joint")
    f("p_joint", "gw_joint", "joint_handle")
    f("p_joint_done", "joint_handle", "gw_risk_joint")
    f("p_after_joint", "gw_risk_joint", "follow_up", "", "True")
    f("p_risk_joint", "gw_risk_joint", "gw_risk_supervise", "升为高风险", BECAME_HIGH)
    f("p_followed", "follow_up", "gw_risk_follow_up")
    f("p_after_follow_up", "gw_risk_follow_up", "gw_to_feedback", "", "True")
    f("p_risk_follow_up", "gw_risk_follow_up", "gw_risk_supervise", "升为高风险", BECAME_HIGH)
    f("p_feedback", "gw_to_feedback", "feedback")
    f("p_visited", "feedback", "gw_satisfied")
    f("p_reopen", "gw_satisfied", "reopen_referral", "不满意（首次）", "not satisfied and reopen_count < 1")
    f("p_reopened", "reopen_referral", "gw_joint")
    f("p_close", "gw_satisfied", "closed", "满意或已重办", default=True)
    f("p_supervise_risk", "gw_risk_supervise", "supervise_risk")
    f("p_risk_supervised", "supervise_risk", "risk_supervised")
    for watched in STEPS:
        f(f"p_overdue_{watched}", f"overdue_{watched}", "gw_supervise")
    f("p_supervise", "gw_supervise", "supervise")
    f("p_supervised", "supervise", "supervised")
    return d


if __name__ == "__main__":
    sys.stdout.write(build().render("tools/layout_police_referral.py"))
