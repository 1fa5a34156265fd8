"""Incidents: steps and timers that failed inside the engine, kept for the operators.

A step that fails inside the engine (app.errors.EngineFailure: a script raising, the engine reaching
Python's recursion limit on a long history, a stored state that no longer loads) is rolled back whole, so
its incident is written afterwards, in a transaction of its own (`recording`), by the service that ran
the step: registration and messages (intake), completing and opening tasks (inbox), the case diagram
(designer). A timer that gave up after its attempts is one too (kernel.timers, in the timer's batch).

The same failure again — at the same element of the same case and task (or of the same stored state, or
the same timer), with the same type of error, while unresolved — counts on its row (`occurrences`,
`last_seen_at`, the latest `error`) instead of adding one. The escalation board lists the unresolved ones
(`unresolved`); resolving and retrying them is the operations console's (platform.md).
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import PROCESS_DEFINITION, PROCESS_STATE, EngineFailure
from app.models import Case, Incident, Timer, table_of
from app.services.kernel import present
from app.services.kernel.shapes import IncidentItem

log = logging.getLogger(__name__)

STEP, TIMER = "step", "timer"  # kinds
# Operations: what was being done when it failed.
REGISTER, COMPLETE, MESSAGE, OPEN, DIAGRAM, FIRE = "register", "complete", "message", "open", "diagram", "timer"
MOVE, MIGRATE = "move", "migrate"  # an operator's intervention or migration (app.services.operations)
MAX_ERROR = 2000
BOARD_LIMIT = 100

_I = table_of(Incident)
_FIELDS = ("kind", "operation", "case_id", "instance_id", "task_id", "timer_id", "element", "element_name", "error",
           "detail", "fingerprint", "occurrences", "created_at", "last_seen_at")


def _upsert(dialect: Any) -> Any:
    statement = dialect.insert(_I).values({name: bindparam(f"b_{name}") for name in _FIELDS})
    return statement.on_conflict_do_update(
        index_elements=["fingerprint"], index_where=_I.c.resolved_at.is_(None),
        set_={"occurrences": _I.c.occurrences + statement.excluded.occurrences,
              "last_seen_at": statement.excluded.last_seen_at, "error": statement.excluded.error}).returning(_I.c.id)


# One statement inserts a new incident or counts a repeated one, atomically under concurrent attempts.
_RECORD = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def fingerprint(kind: str, *, element: str, error: str, case_id: int | None = None, instance_id: int | None = None,
                task_id: str | None = None, timer_id: int | None = None) -> str:
    """What makes two failures the same one. A timer fails as itself; a step at its element of its case's task
    with the same type of error (the text before its first colon: a RecursionError's message varies with the
    frame the limit struck in); a stored state or definition that does not load, for the instance whatever
    the task."""
    if kind == TIMER and timer_id is not None:
        return f"timer:{timer_id}"
    if element in (PROCESS_STATE, PROCESS_DEFINITION):
        task_id = None
    parts = (kind, case_id, instance_id, task_id, element, error.split(":", 1)[0].strip()[:200])
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


def record(conn: Connection, *, kind: str, operation: str, element: str, error: str, element_name: str | None = None,
           case_id: int | None = None, instance_id: int | None = None, task_id: str | None = None,
           timer_id: int | None = None, detail: dict[str, Any] | None = None, occurrences: int = 1,
           now: datetime | None = None) -> int:
    """Record an incident, or count it on the unresolved row of the same failure; returns the row's id."""
    now = now or clock.now()
    error = error[:MAX_ERROR]
    values = {"kind": kind, "operation": operation, "case_id": case_id, "instance_id": instance_id,
              "task_id": task_id, "timer_id": timer_id, "element": element[:255],
              "element_name": element_name[:255] if element_name else None, "error": error, "detail": detail or {},
              "fingerprint": fingerprint(kind, element=element, error=error, case_id=case_id,
                                         instance_id=instance_id, task_id=task_id, timer_id=timer_id),
              "occurrences": occurrences, "created_at": now, "last_seen_at": now}
    return int(conn.execute(_RECORD[conn.dialect.name], {f"b_{k}": v for k, v in values.items()}).scalar_one())


def record_step(conn: Connection, failure: EngineFailure, *, operation: str, case_id: int | None = None,
                instance_id: int | None = None, task_id: str | None = None,
                detail: dict[str, Any] | None = None) -> int:
    """The incident of a step that failed inside the engine; its id goes on the failure (the answer names it)."""
    failure.incident = record(conn, kind=STEP, operation=operation, element=failure.element, error=failure.error,
                              element_name=failure.name, case_id=case_id, instance_id=instance_id,
                              task_id=task_id, detail=detail)
    return failure.incident


@contextmanager
def recording(failure: EngineFailure, what: str) -> Iterator[Connection]:
    """A transaction of its own, after the failed step's rollback, for its incident and timeline record.
    Never raises: the failure itself is what the caller must hear about; a failure to record it is logged."""
    log.warning("%s failed inside the engine at %s: %s", what, failure.element, failure.error,
                exc_info=failure.__cause__ or failure)
    try:
        with db.command() as conn:
            yield conn
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("could not record the failure of %s", what)


def record_step_failure(failure: EngineFailure, what: str, *, operation: str, case_id: int | None = None,
                        instance_id: int | None = None, task_id: str | None = None,
                        detail: dict[str, Any] | None = None) -> None:
    """`recording` and `record_step` in one, for a step that has nothing else to record."""
    with recording(failure, what) as conn:
        record_step(conn, failure, operation=operation, case_id=case_id, instance_id=instance_id, task_id=task_id,
                    detail=detail)


_BOARD = (select(Incident, Timer.kind.label("timer_kind"), Timer.bpmn_id.label("timer_element"),
                 Timer.attempts.label("timer_attempts"), Case.case_no)
          .outerjoin(Timer, Timer.id == Incident.timer_id).outerjoin(Case, Case.id == Incident.case_id)
          .where(Incident.resolved_at.is_(None))
          .order_by(Incident.last_seen_at.desc(), Incident.id.desc()).limit(bindparam("b_limit")))


def unresolved(session: Session, limit: int = BOARD_LIMIT,
               visible: ColumnElement[bool] | None = None) -> list[IncidentItem]:
    """The unresolved incidents, most recently seen first, as the escalation board lists them; with
    `visible`, only those of the cases it takes in (a supervisor of a lower centre)."""
    board = _BOARD if visible is None else _BOARD.where(Incident.case_id.in_(select(Case.id).where(visible)))
    items: list[IncidentItem] = []
    for row in session.execute(board, {"b_limit": limit}):
        incident: Incident = row.Incident
        timer = incident.timer_id is not None
        items.append({
            "id": incident.id,
            # A timer incident keeps the fields it always had: its timer, the timer's kind (engine, warning,
            # overdue, listed), its element as `name` and its attempts.
            "kind": (row.timer_kind or TIMER) if timer else STEP, "incident_kind": incident.kind,
            "timer": incident.timer_id, "task_id": incident.task_id,
            "name": (row.timer_element or incident.element) if timer else incident.element,
            "element": incident.element, "element_name": incident.element_name, "operation": incident.operation,
            "case_id": incident.case_id, "case_no": row.case_no,
            "attempts": (row.timer_attempts or incident.occurrences) if timer else incident.occurrences,
            "occurrences": incident.occurrences, "error": incident.error,
            "created_at": present.iso(incident.created_at), "last_seen_at": present.iso(incident.last_seen_at)})
    return items
