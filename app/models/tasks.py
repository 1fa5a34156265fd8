from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, String, literal_column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from app.models.base import Base, UTCDateTime
from app.states import TaskState


class due_order(FunctionElement[Any]):  # noqa: N801  (an SQL function, named as SQL names them)
    """The due instant as the inbox sorts it: a task without one after every task with one. One expression,
    the same in the indexes and in the queries, so that a page is an index range on both databases and a
    cursor a plain row comparison (a NULL would fall out of it)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "due_order"


@compiles(due_order, "postgresql")
def _due_order_postgresql(element: due_order, compiler: Any, **kw: Any) -> str:
    return f"coalesce({compiler.process(element.clauses, **kw)}, 'infinity'::timestamptz)"


@compiles(due_order, "sqlite")
def _due_order_sqlite(element: due_order, compiler: Any, **kw: Any) -> str:
    # (instants are texts there, in UTC: "YYYY-MM-DD HH:MM:SS.ffffff", app.models.base)
    return f"coalesce({compiler.process(element.clauses, **kw)}, '9999-12-31 23:59:59.999999')"


# The partial indexes' conditions, spelled literally: SQLite uses a partial index only for a query that
# names its condition as written (and PostgreSQL then need not prove it from a parameter's value).
OPEN_SQL = "state = 'open'"
LATE_SQL = "state = 'open' AND escalation_level >= 1"


class TaskRow(Base):
    """The inbox projection of one human task, kept in step with the engine in the same transaction."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_instance_state", "instance_id", "state"),)

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


def task_is_open() -> ColumnElement[bool]:
    return TaskRow.__table__.c.state == literal_column("'open'")


def task_is_late() -> ColumnElement[bool]:
    """Found late by the timers (warning or above): the escalation board's rows (with task_is_open)."""
    return TaskRow.__table__.c.escalation_level >= literal_column("1")


def _partial(name: str, *columns: Any, where: str = OPEN_SQL) -> Index:
    """An index of the open tasks in inbox order (due, then created, then id) after `columns`."""
    return Index(name, *columns, due_order(TaskRow.due_at), TaskRow.created_at, TaskRow.id,
                 sqlite_where=text(where), postgresql_where=text(where))


# The inbox and the board read pages of these, in order (revision 0013_inbox_scale): a page is a range
# of one index (or of one per group, merged), whatever the page's depth.
INBOX_INDEXES = (
    _partial("ix_tasks_open_group", TaskRow.group_name),
    _partial("ix_tasks_open_assignee", TaskRow.assignee),
    _partial("ix_tasks_open_due"),
    _partial("ix_tasks_late_group", TaskRow.group_name, where=LATE_SQL),
    _partial("ix_tasks_late_due", where=LATE_SQL),
)


class TaskDraft(Base):
    """An officer's work in progress on an open task's form (暂存): returned as the task's prefill, removed
    when the task is completed. Not validated: it is what was typed so far, not yet a submission."""

    __tablename__ = "task_drafts"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    data: Mapped[dict[str, Any]]
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime]
