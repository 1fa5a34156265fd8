from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.states import TaskState


class TaskRow(Base):
    """The inbox projection of one human task, kept in step with the engine in the same transaction."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_inbox_group", "state", "group_name", "due_at"),
        Index("ix_tasks_inbox_assignee", "state", "assignee"),
        Index("ix_tasks_instance_state", "instance_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task uuid
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    case_no: Mapped[str] = mapped_column(String(32))  # denormalized (never changes): inbox rows need no join
    case_type: Mapped[str] = mapped_column(String(64), default="dispute_case")  # denormalized likewise: filtered by
    bpmn_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=TaskState.OPEN)
    form_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    due_provisional: Mapped[bool] = mapped_column(default=False)  # counted in a year without calendar data
    time_limit: Mapped[str | None] = mapped_column(String(32))  # ISO 8601 duration from the diagram
    limit_working: Mapped[bool] = mapped_column(default=True)  # working days (else calendar days)
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    escalation_level: Mapped[int] = mapped_column(default=0)
