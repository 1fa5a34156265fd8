from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.states import TimerState


class ProcessInstance(Base):
    """A running or finished case process. `state` holds the task tree only (no spec);
    `version` increases on every save and guards against lost updates."""

    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    state: Mapped[str] = mapped_column(Text, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16))  # an InstanceStatus
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # While an operator has suspended the case (中止): since when, and the case status it resumes to.
    suspended_at: Mapped[datetime | None]
    status_before_suspension: Mapped[str | None] = mapped_column(String(16))


class Timer(Base):
    """A timer the engine waits on, mirrored so that any node can find what is due with one query."""

    __tablename__ = "timers"
    # Partial indexes: a timer is written once per rung and cancelled or fired soon after, so indexing
    # only the states that are searched keeps the indexes small and each step's writes few. Queries
    # name these states with `timer_state_is` (SQLite matches a partial index only on a literal).
    __table_args__ = (
        Index("ix_timers_waiting", "fire_at", "id", sqlite_where=text("state = 'waiting'"),
              postgresql_where=text("state = 'waiting'")),
        Index("ix_timers_failed", "id", sqlite_where=text("state = 'failed'"),
              postgresql_where=text("state = 'failed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    bpmn_id: Mapped[str] = mapped_column(String(128))
    # engine: a BPMN timer the engine waits on; warning / overdue / listed: a rung of the escalation ladder
    kind: Mapped[str] = mapped_column(String(16), default="engine")
    fire_at: Mapped[datetime]
    provisional: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default=TimerState.WAITING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    fired_at: Mapped[datetime | None]
    fired_by: Mapped[str | None] = mapped_column(String(64))


def timer_state_is(state: str) -> ColumnElement[bool]:
    """`timers.state = '<state>'` with the state spelled literally, so that the partial indexes apply."""
    if state not in (TimerState.WAITING, TimerState.FAILED):
        raise ValueError(f"no partial index covers timers in state {state!r}")
    return Timer.__table__.c.state == literal_column(f"'{state}'")
