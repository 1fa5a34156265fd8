"""Reminders (催办), urges and listings addressed to whoever holds a task (or its group while nobody does)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import NotFound
from app.models import Notification, NotificationRead, table_of
from app.services.kernel import present
from app.services.kernel.paging import Page, paginate
from app.services.kernel.principals import Principal

_INSERT = insert(table_of(Notification))


def notify_handler(conn: Connection, task: Any, *, kind: str, message: str, actor: str) -> None:
    conn.execute(_INSERT, [{"recipient": task.assignee, "recipient_group": None if task.assignee else task.group_name,
                            "kind": kind, "case_id": task.case_id, "case_no": task.case_no, "task_id": task.id,
                            "message": message, "created_by": actor, "created_at": clock.now()}])


URGES = ("urge", "listed")  # what a supervisor said to the handler, shown on the task itself


def _item(note: Notification, read_at: Any = None) -> dict[str, Any]:
    return {"id": note.id, "kind": note.kind, "message": note.message, "case_id": note.case_id,
            "case_no": note.case_no, "task_id": note.task_id, "recipient": note.recipient,
            "group": note.recipient_group, "created_by": note.created_by, "created_at": present.iso(note.created_at),
            "read": read_at is not None}


def _addressed_to(principal: Principal) -> ColumnElement[bool]:
    mine = Notification.recipient == principal.username
    groups = sorted(principal.groups)
    return or_(mine, Notification.recipient_group.in_(groups)) if groups else mine


def _read_by(principal: Principal) -> ColumnElement[bool]:
    return and_(NotificationRead.notification_id == Notification.id, NotificationRead.username == principal.username)


def list_for(principal: Principal, *, unread: bool | None = None, page: int = 1, per_page: int = 50) -> Page:
    query = (select(Notification, NotificationRead.read_at).outerjoin(NotificationRead, _read_by(principal))
             .where(_addressed_to(principal)))
    if unread is not None:
        query = query.where(NotificationRead.read_at.is_(None) if unread else NotificationRead.read_at.is_not(None))
    with db.transaction() as session:
        return paginate(session, query.order_by(Notification.id.desc()), page, per_page, _item)


def unread_count(principal: Principal) -> int:
    """The navigation's badge: one COUNT over the two indexed address columns."""
    query = (select(func.count()).select_from(Notification).outerjoin(NotificationRead, _read_by(principal))
             .where(_addressed_to(principal), NotificationRead.read_at.is_(None)))
    with db.transaction() as session:
        return int(session.scalar(query) or 0)


def mark_read(principal: Principal, notification_id: int) -> dict[str, Any]:
    """Read by this user (again: no change). 404 for a note not addressed to them or their groups. Not on
    the audit log: reading changes no case."""
    with db.transaction() as session:
        note = session.scalar(select(Notification).where(Notification.id == notification_id,
                                                         _addressed_to(principal)))
        if note is None:
            raise NotFound(f"notification {notification_id} does not exist")
        read = session.get(NotificationRead, (note.id, principal.username))
        if read is None:
            read = NotificationRead(notification_id=note.id, username=principal.username, read_at=clock.now())
            session.add(read)
        return _item(note, read.read_at)


def urges_of_task(session: Session, task_id: str) -> list[dict[str, Any]]:
    """The urges and listings of one task, oldest first (the task page shows each note)."""
    query = (select(Notification).where(Notification.task_id == task_id, Notification.kind.in_(URGES))
             .order_by(Notification.id))
    return [_item(note) for note in session.scalars(query)]


def urged_tasks(task_ids: list[str]) -> set[str]:
    """Which of `task_ids` a supervisor urged or listed: the inbox marks those rows (one query a page)."""
    if not task_ids:
        return set()
    query = select(Notification.task_id).where(Notification.task_id.in_(task_ids), Notification.kind.in_(URGES))
    with db.transaction() as session:
        return {task_id for task_id in session.scalars(query.distinct()) if task_id}
