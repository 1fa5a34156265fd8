"""Supervision (督办): the escalation board, and a supervisor urging (催办) or listing (挂牌督办) a task
(the acts themselves are the kernel's, app.services.kernel.oversight)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from app import clock
from app.database import db
from app.errors import Bilingual, Conflict, FieldError, NotFound, TaskNotOpen, ValidationFailed
from app.models import TaskRow, table_of
from app.services.kernel import audit, incidents, oversight, policy, present, tasklist
from app.services.kernel.policy import LISTED_LEVEL
from app.services.kernel.principals import Principal
from app.services.kernel.shapes import TaskItem
from app.states import TaskState

_T = table_of(TaskRow)
_TASK = select(_T).where(_T.c.id == bindparam("b_id"))


def list_escalations(principal: Principal, *, level: int | None = None, group: str | None = None,
                     case_type: str | None = None, q: str | None = None, category: str | None = None,
                     due_before: str | None = None,
                     cursor: str | None = None, page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """Open tasks at warning level or above (`level`: the lowest shown), most overdue first, with their
    cases' facts and the inbox's search and filters; with the unresolved incidents (steps that failed
    inside the engine, timers that gave up), most recently seen first."""
    principal.require_role("supervisor")
    if level is not None and level not in (1, 2, 3):
        raise ValidationFailed("level must be 1 (warning), 2 (overdue) or 3 (listed)",
                               [FieldError("level", Bilingual("必须是 1、2 或 3", "must be 1, 2 or 3"))])
    now = clock.now()
    overseen = principal.oversees
    groups = overseen if not group else ({group} & overseen if overseen is not None else {group})
    filters = tasklist.Filters(q=tasklist.parse_q(q), category=category or None, min_level=level or 1,
                               case_type=case_type or None,
                               due_before=tasklist.parse_due_before(due_before))

    def item(row: Any) -> TaskItem:
        entry = present.with_case_facts(present.task_item_for(principal, row), row)
        entry["overdue_seconds"] = max(0, int((now - row.due_at).total_seconds())) if row.due_at else 0
        return entry

    with db.transaction() as session:
        result: dict[str, Any] = dict(tasklist.page_of(session, principal, tasklist.groups_scope(groups, late=True),
                                                       filters, cursor=cursor, page=page, per_page=per_page,
                                                       render=item))
        # A lower centre's supervisor sees the incidents of the cases they may see.
        result["incidents"] = incidents.unresolved(session, visible=policy.case_scope(principal))
        return result


def urge(principal: Principal, task_id: str, note: str) -> TaskItem:
    """催办: a note the handler sees; only on open tasks the timers found late (level 1 or above)."""
    principal.require_role("supervisor")
    note = _note(note)
    with db.command() as conn:
        task = _open_task(conn, principal, task_id)
        if task.escalation_level < 1:
            raise Conflict(Bilingual("此任务未超期，无需催办",
                                     f"task {task_id} is on time (escalation level 0): nothing to urge"))
        audit.record_many(conn, [oversight.urge(conn, principal, task, note)])
        return present.task_item(task, task.case_no)


def list_for_supervision(principal: Principal, task_id: str, note: str) -> TaskItem:
    """挂牌督办: raise an open task to level 3; the department must explain in writing."""
    principal.require_role("supervisor")
    note = _note(note)
    with db.command() as conn:
        task = _open_task(conn, principal, task_id)
        if task.escalation_level >= LISTED_LEVEL:
            raise Conflict(Bilingual("此任务已挂牌督办", f"task {task_id} is listed for supervision already"))
        audit.record_many(conn, [oversight.list_task(conn, principal.username, task, note)])
        item = present.task_item(task, task.case_no)
        item["escalation_level"] = LISTED_LEVEL
        return item


def _open_task(conn: Connection, principal: Principal, task_id: str) -> Any:
    task = conn.execute(_TASK, {"b_id": task_id}).one_or_none()
    if task is None or not principal.oversees_group(task.group_name):
        raise NotFound(f"task {task_id} does not exist")
    if task.state != TaskState.OPEN:
        raise TaskNotOpen(Bilingual("此任务已办结或撤销", f"task {task_id} is {task.state}"))
    return task


MAX_NOTE = 2000


def _note(note: Any) -> str:
    if not isinstance(note, str) or not note.strip():
        raise ValidationFailed(Bilingual("请填写督办意见", "a note is required"),
                               [FieldError("note", Bilingual("必填", "required"))])
    if len(note.strip()) > MAX_NOTE:
        raise ValidationFailed(f"the note is longer than {MAX_NOTE} characters",
                               [FieldError("note", Bilingual(f"最多 {MAX_NOTE} 字", f"at most {MAX_NOTE} characters"))])
    return note.strip()

