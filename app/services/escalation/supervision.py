"""Supervision (督办): the escalation board, urging (催办), listing for supervision (挂牌督办), and the
effect of a completed supervision task."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from app import clock
from app.errors import Conflict, FieldError, NotFound, TaskNotOpen, ValidationFailed
from app.extensions import db
from app.models import TaskRow, Timer, table_of, timer_state_is
from app.services.accounts.auth import Principal
from app.services.kernel import audit, notifications, present
from app.services.kernel.paging import Page, paginate

_T, _TM = table_of(TaskRow), table_of(Timer)
_TASK = select(_T).where(_T.c.id == bindparam("b_id"))
_OPEN_TASK_OF_CASE = select(_T).where(_T.c.case_id == bindparam("b_case"), _T.c.bpmn_id == bindparam("b_name"),
                                      _T.c.state == "open")
_LIST = (update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == "open").values(escalation_level=3))


def list_escalations(principal: Principal, *, level: int | None = None, group: str | None = None,
                     page: int = 1, per_page: int = 50) -> Page:
    """Open tasks at warning level or above, most overdue first; failed timers listed as incidents."""
    principal.require_role("supervisor")
    if level is not None and level not in (1, 2, 3):
        raise ValidationFailed("level must be 1 (warning), 2 (overdue) or 3 (listed)",
                               [FieldError("level", "必须是 1、2 或 3 / must be 1, 2 or 3")])
    now = clock.now()
    query = select(TaskRow).where(TaskRow.state == "open", TaskRow.escalation_level >= (level or 1))
    if group:
        query = query.where(TaskRow.group_name == group)
    query = query.order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.id)

    def item(task: TaskRow) -> dict[str, Any]:
        entry = present.task_item(task, task.case_no)
        entry["overdue_seconds"] = max(0, int((now - task.due_at).total_seconds())) if task.due_at else 0
        return entry

    with db.transaction() as session:
        result: Any = paginate(session, query, page, per_page, item)
        failed = session.scalars(select(Timer).where(timer_state_is("failed")).order_by(Timer.id).limit(100)).all()
        result["incidents"] = [{"timer": t.id, "kind": t.kind, "task_id": t.task_id, "name": t.bpmn_id,
                                "case_id": t.case_id, "attempts": t.attempts, "error": t.last_error}
                               for t in failed]
        return result


def urge(principal: Principal, task_id: str, note: str) -> dict[str, Any]:
    """催办: a note the handler sees; only on open tasks the timers found late (level 1 or above)."""
    principal.require_role("supervisor")
    note = _note(note)
    with db.command() as conn:
        task = _open_task(conn, task_id)
        if task.escalation_level < 1:
            raise Conflict(f"此任务未超期，无需催办 / task {task_id} is on time (escalation level 0): nothing to urge")
        notifications.notify_handler(conn, task, kind="urge", message=_urge_text(task, note),
                                     actor=principal.username)
        _record(conn, principal, task, "task.urged", note)
        return present.task_item(task, task.case_no)


def list_for_supervision(principal: Principal, task_id: str, note: str) -> dict[str, Any]:
    """挂牌督办: raise an open task to level 3; the department must explain in writing."""
    principal.require_role("supervisor")
    note = _note(note)
    with db.command() as conn:
        task = _open_task(conn, task_id)
        if task.escalation_level >= 3:
            raise Conflict(f"此任务已挂牌督办 / task {task_id} is listed for supervision already")
        _list(conn, principal.username, task, note)
        item = present.task_item(task, task.case_no)
        item["escalation_level"] = 3
        return item


def apply_supervision_task(conn: Connection, principal: Principal, case_id: int, data: dict[str, Any],
                           watched: dict[str, Any] | None) -> None:
    """What a completed 督办 task does: urge or list the node it watches, if that node is still open."""
    if not watched:
        return
    task = conn.execute(_OPEN_TASK_OF_CASE, {"b_case": case_id, "b_name": watched.get("task")}).first()
    if task is None:
        return
    note = str(data.get("note", ""))
    if data.get("action") == "urge":
        notifications.notify_handler(conn, task, kind="urge", message=_urge_text(task, note),
                                     actor=principal.username)
        _record(conn, principal, task, "task.urged", note)
    elif data.get("action") == "list":
        _list(conn, principal.username, task, note)


def _urge_text(task: Any, note: str) -> str:
    return f"【督办催办】{task.case_no}「{task.title}」：{note}"


def _list(conn: Connection, actor: str, task: Any, note: str) -> None:
    conn.execute(_LIST, {"b_id": task.id})
    notifications.notify_handler(conn, task, kind="listed",
                                 message=f"【挂牌督办】{task.case_no}「{task.title}」：{note}（请书面说明办理情况）",
                                 actor=actor)
    audit.record(conn, actor=actor, action="task.listed", case_id=task.case_id, instance_id=task.instance_id,
                 task_id=task.id, detail={"task": task.bpmn_id, "title": task.title, "note": note, "level": 3})


def _record(conn: Connection, principal: Principal, task: Any, action: str, note: str) -> None:
    audit.record(conn, actor=principal.username, action=action, case_id=task.case_id, instance_id=task.instance_id,
                 task_id=task.id, detail={"task": task.bpmn_id, "title": task.title, "note": note,
                                          "assignee": task.assignee})


def _open_task(conn: Connection, task_id: str) -> Any:
    task = conn.execute(_TASK, {"b_id": task_id}).one_or_none()
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if task.state != "open":
        raise TaskNotOpen(f"此任务已办结或撤销 / task {task_id} is {task.state}")
    return task


MAX_NOTE = 2000


def _note(note: Any) -> str:
    if not isinstance(note, str) or not note.strip():
        raise ValidationFailed("请填写督办意见 / a note is required", [FieldError("note", "必填 / required")])
    if len(note.strip()) > MAX_NOTE:
        raise ValidationFailed(f"the note is longer than {MAX_NOTE} characters",
                               [FieldError("note", f"最多 {MAX_NOTE} 字 / at most {MAX_NOTE} characters")])
    return note.strip()

