"""What urging (催办) and listing (挂牌督办) do to an open task: the note its handler gets, the level it
rises to, and the audit record.

The kernel owns these acts because more than one domain performs them: a supervisor on the escalation
board (escalation), and a completed 督办 task, which urges or lists the node it watches (inbox)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from app.models import TaskRow, table_of
from app.services.kernel import audit, notifications
from app.services.kernel.policy import LISTED_LEVEL
from app.services.kernel.principals import Principal
from app.states import TaskState

_T = table_of(TaskRow)
_OPEN_TASK_OF_CASE = select(_T).where(_T.c.case_id == bindparam("b_case"), _T.c.bpmn_id == bindparam("b_name"),
                                      _T.c.state == TaskState.OPEN)
# The very task the overdue notice named: a node open several times at once (one task per department of
# an instruction) has one late task among its open ones.
_OPEN_TASK_BY_ID = select(_T).where(_T.c.case_id == bindparam("b_case"), _T.c.id == bindparam("b_id"),
                                    _T.c.state == TaskState.OPEN)
_LIST = (update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == TaskState.OPEN)
         .values(escalation_level=LISTED_LEVEL))


def urge(conn: Connection, principal: Principal, task: Any, note: str) -> dict[str, Any]:
    """Urge the task; returns its audit record, which the caller writes (last: kernel/audit.py)."""
    notifications.notify_handler(conn, task, kind="urge", message=f"【督办催办】{task.case_no}「{task.title}」：{note}",
                                 actor=principal.username)
    return audit.entry(actor=principal.username, action="task.urged", case_id=task.case_id,
                       instance_id=task.instance_id, task_id=task.id,
                       detail={"task": task.bpmn_id, "title": task.title, "note": note, "assignee": task.assignee})


def list_task(conn: Connection, actor: str, task: Any, note: str) -> dict[str, Any]:
    """List the task; returns its audit record, which the caller writes (last: kernel/audit.py)."""
    conn.execute(_LIST, {"b_id": task.id})
    notifications.notify_handler(conn, task, kind="listed",
                                 message=f"【挂牌督办】{task.case_no}「{task.title}」：{note}（请书面说明办理情况）",
                                 actor=actor)
    return audit.entry(actor=actor, action="task.listed", case_id=task.case_id, instance_id=task.instance_id,
                       task_id=task.id, detail={"task": task.bpmn_id, "title": task.title, "note": note,
                                                "level": LISTED_LEVEL})


def apply_supervision_task(conn: Connection, principal: Principal, case_id: int, data: dict[str, Any],
                           watched: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What a completed 督办 task does: urge or list the node it watches, if that node is still open.
    Returns the audit records to write."""
    if not watched:
        return []
    if watched.get("task_id"):
        task = conn.execute(_OPEN_TASK_BY_ID, {"b_case": case_id, "b_id": watched["task_id"]}).first()
    else:
        task = conn.execute(_OPEN_TASK_OF_CASE, {"b_case": case_id, "b_name": watched.get("task")}).first()
    if task is None:
        return []
    note = str(data.get("note", ""))
    if data.get("action") == "urge":
        return [urge(conn, principal, task, note)]
    if data.get("action") == "list":
        return [list_task(conn, principal.username, task, note)]
    return []
