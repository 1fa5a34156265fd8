from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Incident(Base):
    """A step or a timer that failed inside the engine, for the operators (app.services.kernel.incidents).

    One row per failure while it is unresolved: the same failure again (same `fingerprint`) counts on its
    row (`occurrences`, `last_seen_at`); the partial unique index keeps it so under concurrent attempts."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_open_fingerprint", "fingerprint", unique=True,
              sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # step | timer
    # what was being done: register, complete, message, open (reading a task's state), diagram, timer
    operation: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    instance_id: Mapped[int | None]
    task_id: Mapped[str | None] = mapped_column(String(36))
    timer_id: Mapped[int | None]
    element: Mapped[str] = mapped_column(String(255))  # a BPMN id, or "the process state"
    element_name: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]]  # what a retry would need to know (never personal data)
    fingerprint: Mapped[str] = mapped_column(String(80))
    occurrences: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
