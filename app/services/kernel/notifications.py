"""Reminders (催办), urges and listings addressed to whoever holds a task (or its group while nobody does)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, or_, select

from app import clock
from app.database import db
from app.models import Notification, table_of
from app.services.kernel import present
from app.services.kernel.paging import Page, paginate
from app.services.kernel.principals import Principal

_INSERT = insert(table_of(Notification))


def notify_handler(conn: Connection, task: Any, *, kind: str, message: str, actor: str) -> None:
    conn.execute(_INSERT, [{"recipient": task.assignee, "recipient_group": None if task.assignee else task.group_name,
                            "kind": kind, "case_id": task.case_id, "case_no": task.case_no, "task_id": task.id,
                            "message": message, "created_by": actor, "created_at": clock.now()}])


def _item(note: Notification) -> dict[str, Any]:
    return {"id": note.id, "kind": note.kind, "message": note.message, "case_id": note.case_id,
            "case_no": note.case_no, "task_id": note.task_id, "recipient": note.recipient,
            "group": note.recipient_group, "created_by": note.created_by, "created_at": present.iso(note.created_at)}


def list_for(principal: Principal, *, page: int = 1, per_page: int = 50) -> Page:
    mine = Notification.recipient == principal.username
    groups = list(principal.groups)
    query = select(Notification).where(or_(mine, Notification.recipient_group.in_(groups)) if groups else mine)
    with db.transaction() as session:
        return paginate(session, query.order_by(Notification.id.desc()), page, per_page, _item)
