from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Notification(Base):
    """A reminder (催办) or urge addressed to a user, or to a group while nobody holds the task."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient", "recipient", "id"),
                      Index("ix_notifications_group", "recipient_group", "id"),
                      Index("ix_notifications_task", "task_id"))  # the urges of a task, the inbox's marks

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str | None] = mapped_column(String(64))
    recipient_group: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # reminder, urge, listed, incident
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    case_no: Mapped[str | None] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class NotificationRead(Base):
    """That `username` has read notification `notification_id` (a note to a group is read by each member)."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    read_at: Mapped[datetime]
