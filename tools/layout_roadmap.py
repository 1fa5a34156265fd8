"""Regenerate processes/roadmap.bpmn (the rule-of-law roadmap, 法治化路线图) with its layout.

Run: python tools/layout_roadmap.py > processes/roadmap.bpmn   (see tools/bpmn_layout.py for why)
Called from dispute_case when mediation fails or is refused, or a court refuses judicial confirmation.
"""
from __future__ import annotations

import sys

from bpmn_layout import Diagram, form

PREPARE = """allowed_channels = list(dict.fromkeys(channel_option))
proposed_channel = preferred_channel if preferred_channel in allowed_channels else allowed_channels[0]
channel_table = {c: {"limit": l, "calendar": k, "basis": b}
                 for c, l, k, b in zip(channel_option, option_limit, option_calendar, option_basis)}"""
ENTER = """channel_limit = channel_table[channel]["limit"]
channel_calendar = channel_table[channel]["calendar"]
channel_basis = channel_table[channel]["basis"]
channel_result = "pending\""""


def build() -> Diagram:
    d = Diagram("roadmap", "法治化路线图（非诉先行）", [
        ("lane_roadmap_department", "department", "承办部门 department（运行时绑定 handling_group）"),
        ("lane_roadmap_dispatch", "dispatch", "分流交办 dispatch（跟踪）"),
        ("lane_roadmap_supervisor", "supervisor", "督办 supervisor"),
    ])
    n = d.node
    n("roadmap_start", "event", "startEvent", "调解未成", 0, 110)
    n("propose_channel", "task", "businessRuleTask", "渠道规则", 0, 240,
      ext="<spiffworkflow:calledDecisionId>channels</spiffworkflow:calledDecisionId>")
    n("prepare_channels", "task", "scriptTask", "可选渠道", 0, 380, script=PREPARE)
    n("choose_channel", "task", "userTask", "引导分流", 0, 520, ext=form(
        "choose_channel", candidateGroups="handling_group", caseStatus='"in_channel"', timeLimit='"P3D"'))
    n("enter_channel", "task", "scriptTask", "进入法定渠道", 0, 660, script=ENTER)
    n("gw_tracking", "gateway", "exclusiveGateway", "", 1, 780)
    n("track_channel", "task", "userTask", "跟踪", 1, 900, ext=form(
        "track_channel", caseStatus='"in_channel"', procedure="channel", timeLimit="channel_limit",
        timeLimitCalendar="channel_calendar"))
    n("record_channel_result", "task", "scriptTask", "登记渠道结果", 1, 1040,
      script='channel_result = channel_message["result"]\nchannel_document = channel_message.get("document_no")')
    n("gw_result", "gateway", "exclusiveGateway", "有结果？", 1, 1170)
    n("roadmap_done", "event", "endEvent", "渠道办结", 1, 1300, terminate=True)
    for watched in ("choose_channel", "track_channel"):
        d.boundary(f"overdue_{watched}", "超期督办", watched, message=f"overdue_{watched}", offset=-30)
    d.boundary("channel_reported", "渠道反馈", "track_channel", message="channel_result", interrupting=True,
               variable="channel_message", offset=30)
    n("gw_roadmap_supervise", "gateway", "exclusiveGateway", "", 2, 780)
    n("roadmap_supervise", "task", "userTask", "督办", 2, 930, ext=form("supervise", onComplete="supervision",
                                                                      timeLimit='"P1D"'))
    n("roadmap_supervised", "event", "endEvent", "督办完成", 2, 1070)

    f = d.flow
    f("r_start", "roadmap_start", "propose_channel")
    f("r_proposed", "propose_channel", "prepare_channels")
    f("r_prepared", "prepare_channels", "choose_channel")
    f("r_chosen", "choose_channel", "enter_channel")
    f("r_entered", "enter_channel", "gw_tracking")
    f("r_track", "gw_tracking", "track_channel")
    f("r_tracked", "track_channel", "gw_result")
    f("r_reported", "channel_reported", "record_channel_result")
    f("r_recorded", "record_channel_result", "gw_result")
    f("r_pending", "gw_result", "gw_tracking", "仍在办理", 'channel_result == "pending"')
    f("r_done", "gw_result", "roadmap_done", "已化解/已驳回", default=True)
    for watched in ("choose_channel", "track_channel"):
        f(f"r_overdue_{watched}", f"overdue_{watched}", "gw_roadmap_supervise")
    f("r_supervise", "gw_roadmap_supervise", "roadmap_supervise")
    f("r_supervised", "roadmap_supervise", "roadmap_supervised")
    return d


if __name__ == "__main__":
    sys.stdout.write(build().render("tools/layout_roadmap.py"))
