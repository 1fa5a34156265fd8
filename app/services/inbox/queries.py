"""The inbox's hot-path SQL, behind names (the prepared-statement mechanism is private to these modules)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session

from app.models import ProcessInstance, TaskDraft, TaskRow, table_of
from app.prepared import Prepared
from app.states import TaskState

_T, _PI, _TD = table_of(TaskRow), table_of(ProcessInstance), table_of(TaskDraft)
_TASK = Prepared(select(_T).where(_T.c.id == bindparam("b_id")))
_TASK_LOCKING_INSTANCE = Prepared(
    select(_T, _PI.c.version.label("instance_version"), _PI.c.definition_id.label("instance_definition_id"),
           _PI.c.status.label("instance_status"))
    .join(_PI, _PI.c.id == _T.c.instance_id).where(_T.c.id == bindparam("b_id")).with_for_update(of=(_PI, _T)))
_CLEAR_DRAFT = Prepared(delete(_TD).where(_TD.c.task_id == bindparam("b_id")))
_SET_ASSIGNEE = (update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == TaskState.OPEN)
                 .values(assignee=bindparam("b_assignee")))
# Conditional UPDATEs: of two officers claiming at once exactly one matches the row.
_SET_ASSIGNEE_IF_FREE = _SET_ASSIGNEE.where((_T.c.assignee.is_(None)) | (_T.c.assignee == bindparam("b_me")))
_SET_ASSIGNEE_IF_MINE = _SET_ASSIGNEE.where(_T.c.assignee == bindparam("b_me"))


def task_by_id(conn: Session | Connection, task_id: str) -> Any:
    """The inbox row, or None."""
    return _TASK.run(conn, {"b_id": task_id}).one_or_none()


def lock_task_for_completion(conn: Connection, task_id: str) -> Any:
    """The inbox row with its instance's version and definition, both rows locked for this transaction
    (one round trip); None for an unknown task. Locking the task row too makes PostgreSQL, after waiting
    for a racing step, return that row as the racing step left it (not as the statement's snapshot saw
    it), so no second read is needed."""
    return _TASK_LOCKING_INSTANCE.run(conn, {"b_id": task_id}).one_or_none()


def claim(conn: Connection, task_id: str, me: str) -> bool:
    """Take an open task nobody holds (or that I hold already); False when someone else was first."""
    return conn.execute(_SET_ASSIGNEE_IF_FREE, {"b_id": task_id, "b_assignee": me, "b_me": me}).rowcount == 1


def unclaim(conn: Connection, task_id: str, me: str) -> bool:
    """Give back an open task I hold; False when I do not hold it."""
    return conn.execute(_SET_ASSIGNEE_IF_MINE, {"b_id": task_id, "b_assignee": None, "b_me": me}).rowcount == 1


def assign(conn: Connection, task_id: str, assignee: str) -> bool:
    """Hand an open task to `assignee` whoever holds it; False when it is no longer open."""
    return conn.execute(_SET_ASSIGNEE, {"b_id": task_id, "b_assignee": assignee}).rowcount == 1


def clear_draft(conn: Connection, task_id: str) -> None:
    """Remove the task's draft (暂存), if it has one: the task is completed. Deferred like the step's other
    writes (app.prepared): it goes to the server with the next statement."""
    _CLEAR_DRAFT.defer(conn, {"b_id": task_id})
