"""Regenerate processes/instruction.bpmn and processes/instruction_department.bpmn (指令流转) with their layout.

Run: python tools/layout_instruction.py > processes/instruction.bpmn
     python tools/layout_instruction.py department > processes/instruction_department.bpmn
(see tools/bpmn_layout.py for why). The centre issues an instruction with a deadline to one or more
departments; `instruction` calls `instruction_department` once per chosen department, in parallel
(a multi-instance call activity over `departments`, each instance with its own `department`). Each
department signs for it, acts and reports back; the centre reviews each report and accepts it or returns
it with a reason (back to that department only). The case closes when every department's report is accepted.
"""
from __future__ import annotations

import sys

from bpmn_layout import Diagram, form

# Each department once, in the order chosen (a department ticked twice must not get two tasks).
INIT = "departments = list(dict.fromkeys(departments))\nreturn_count = 0"
# The report is due at the end of the instruction's deadline day (a date is a time limit of its own).
REPORT_LIMIT = "deadline"


def build() -> Diagram:
    d = Diagram("instruction", "指令流转", [
        ("lane_instruction_centre", "dispatch", "综治中心 dispatch（下达指令、审核反馈）"),
        ("lane_instruction_departments", "department", "承办部门 department（每部门一个实例）"),
    ])
    n = d.node
    n("issued", "event", "startEvent", "下达指令", 0, 110, ext=(
        '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
        'value="instruction.schema.json" /><spiffworkflow:property name="formUiSchemaFilename" '
        'value="instruction.uischema.json" /></spiffworkflow:properties>'))
    n("init_instruction", "task", "scriptTask", "指令登记", 0, 230, script=INIT)
    n("to_departments", "task", "callActivity", "各部门签收办理（并行）", 1, 390, called="instruction_department",
      multi=("departments", "department"))
    n("all_accepted", "task", "scriptTask", "全部办结", 0, 550, script='instruction_result = "accepted"')
    n("closed", "event", "endEvent", "办结归档", 0, 680, terminate=True)
    f = d.flow
    f("i_start", "issued", "init_instruction")
    f("i_init", "init_instruction", "to_departments")
    f("i_done", "to_departments", "all_accepted")
    f("i_close", "all_accepted", "closed")
    return d


def build_department() -> Diagram:
    d = Diagram("instruction_department", "指令流转：部门办理与审核", [
        ("lane_instruction_department", "department", "承办部门 department（运行时绑定 department）"),
        ("lane_instruction_review", "dispatch", "综治中心 dispatch（审核反馈）"),
        ("lane_instruction_supervisor", "supervisor", "督办 supervisor"),
    ])
    n = d.node
    n("department_assigned", "event", "startEvent", "指令到达", 0, 110)
    n("sign_instruction", "task", "userTask", "签收指令", 0, 240, ext=form(
        "sign_instruction", candidateGroups="department", caseStatus='"dispatched"', timeLimit='"P1D"'))
    n("gw_report", "gateway", "exclusiveGateway", "", 0, 370)
    n("report_instruction", "task", "userTask", "办理反馈", 0, 500, ext=form(
        "report_instruction", candidateGroups="department", caseStatus='"handling"', timeLimit=REPORT_LIMIT,
        timeLimitCalendar='"calendar"'))
    n("review_report", "task", "userTask", "审核反馈", 1, 640, ext=form(
        "review_report", caseStatus='"handling"', timeLimit='"P2D"'))
    n("gw_review", "gateway", "exclusiveGateway", "采纳？", 1, 780)
    n("note_return", "task", "scriptTask", "退回重办", 1, 370, script="return_count = return_count + 1")
    n("department_done", "event", "endEvent", "本部门办结", 1, 900, terminate=True)
    # The escalation ladder: the timer service sends overdue_<task id> to the instance holding the late task
    # (this department's); the non-interrupting boundary event opens a supervision task beside the work.
    for watched in ("sign_instruction", "report_instruction", "review_report"):
        d.boundary(f"overdue_{watched}", "超期督办", watched, message=f"overdue_{watched}")
    n("gw_supervise", "gateway", "exclusiveGateway", "", 2, 500)
    n("supervise", "task", "userTask", "督办", 2, 640, ext=form("supervise", onComplete="supervision",
                                                              timeLimit='"P1D"'))
    n("supervised", "event", "endEvent", "督办完成", 2, 780)
    f = d.flow
    f("d_start", "department_assigned", "sign_instruction")
    f("d_signed", "sign_instruction", "gw_report")
    f("d_report", "gw_report", "report_instruction")
    f("d_reported", "report_instruction", "review_report")
    f("d_reviewed", "review_report", "gw_review")
    f("d_accepted", "gw_review", "department_done", "采纳", "accepted")
    f("d_returned", "gw_review", "note_return", "退回（须说明理由）", default=True)
    f("d_again", "note_return", "gw_report")
    for watched in ("sign_instruction", "report_instruction", "review_report"):
        f(f"d_overdue_{watched}", f"overdue_{watched}", "gw_supervise")
    f("d_supervise", "gw_supervise", "supervise")
    f("d_supervised", "supervise", "supervised")
    return d


if __name__ == "__main__":
    department = sys.argv[1:] == ["department"]
    diagram = build_department() if department else build()
    sys.stdout.write(diagram.render("tools/layout_instruction.py"))
