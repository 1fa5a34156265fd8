"""The kernel's hot-path SQL, behind names: what every step of every case runs.

Statements are built once at import (building one costs more than running it) and most run through
app.prepared straight on the driver; that mechanism is private to the `queries` modules of the domains.
Every function takes the caller's connection and runs inside the caller's transaction.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import (
    AuditEntry,
    AuditHead,
    Case,
    ProcessDefinition,
    ProcessInstance,
    TaskRow,
    Timer,
    table_of,
    timer_state_is,
)
from app.prepared import Prepared, Rows
from app.states import InstanceStatus, TaskState, TimerState

Executor = Session | Connection
_PI, _T, _C, _TM, _PD = (table_of(ProcessInstance), table_of(TaskRow), table_of(Case), table_of(Timer),
                         table_of(ProcessDefinition))

# Decision fields of the route (route.md) that the case row mirrors for lists, filters and reports.
CASE_FIELDS = ("category", "risk_level", "handling_group", "complexity", "outcome", "satisfied", "reopen_count")
# The columns a case summary reads (statements that return a case for a summary return only these).
CASE_SUMMARY_COLUMNS = ("id", "case_no", "case_type", "title", "source", "external_id", "category", "urgency",
                        "status", "procedure", "procedure_since", "handling_group", "outcome", "received_at",
                        "created_at", "closed_at")

# Process instances ---------------------------------------------------------------------------------
_INSERT_INSTANCE = Prepared(insert(_PI).returning(_PI.c.id))
_LOCK_INSTANCE = Prepared(select(_PI.c.version, _PI.c.definition_id).where(_PI.c.id == bindparam("b_id"))
                          .with_for_update())
_TRY_LOCK_INSTANCE = Prepared(select(_PI.c.version, _PI.c.definition_id).where(_PI.c.id == bindparam("b_id"))
                              .with_for_update(skip_locked=True))
_INSTANCE_DEFINITION = Prepared(select(_PI.c.definition_id).where(_PI.c.id == bindparam("b_id")))
_INSTANCE_STATE = Prepared(select(_PI.c.state).where(_PI.c.id == bindparam("b_id")))
# An instance an operator suspended or cancelled takes no step (a racing command loses: 409).
_SAVE_INSTANCE = Prepared(
    update(_PI).where(_PI.c.id == bindparam("b_id"), _PI.c.version == bindparam("b_expected"),
                      _PI.c.status != InstanceStatus.SUSPENDED, _PI.c.status != InstanceStatus.CANCELLED)
    .values(state=bindparam("b_state"), version=bindparam("b_version"), status=bindparam("b_status"),
            serializer_version=bindparam("b_format"), updated_at=bindparam("b_now")))


_REBASE_INSTANCE = (update(_PI).where(_PI.c.id == bindparam("b_id"), _PI.c.version == bindparam("b_expected"),
                                      _PI.c.status == InstanceStatus.RUNNING)
                    .values(state=bindparam("b_state"), version=bindparam("b_version"),
                            definition_id=bindparam("b_definition"), serializer_version=bindparam("b_format"),
                            updated_at=bindparam("b_now")))


def rebase_instance(conn: Connection, instance_id: int, *, expected_version: int, definition_id: int, state: str,
                    serializer_version: str, now: datetime) -> bool:
    """Write a migrated instance (its new definition and state) if its version is still `expected_version`."""
    return conn.execute(_REBASE_INSTANCE, {
        "b_id": instance_id, "b_expected": expected_version, "b_version": expected_version + 1, "b_state": state,
        "b_definition": definition_id, "b_format": serializer_version, "b_now": now}).rowcount == 1


def insert_instance(conn: Connection, row: dict[str, Any]) -> int:
    return int(_INSERT_INSTANCE.run(conn, row).scalar_one())


def lock_instance(conn: Connection, instance_id: int, *, wait: bool = True) -> Any:
    """(version, definition_id) of the instance, its row locked for this transaction; None when the row
    does not exist, or (wait=False) when another transaction holds it."""
    return (_LOCK_INSTANCE if wait else _TRY_LOCK_INSTANCE).run(conn, {"b_id": instance_id}).one_or_none()


def instance_definition(conn: Executor, instance_id: int) -> int | None:
    return _INSTANCE_DEFINITION.run(conn, {"b_id": instance_id}).scalar()


def instance_state(conn: Executor, instance_id: int) -> str:
    return str(_INSTANCE_STATE.run(conn, {"b_id": instance_id}).scalar_one())


def save_instance(conn: Connection, instance_id: int, *, expected_version: int, state: str, status: str,
                  serializer_version: str, now: datetime) -> bool:
    """Write the instance if its version is still `expected_version` (then bumped by one); False otherwise."""
    return _SAVE_INSTANCE.run(conn, {
        "b_id": instance_id, "b_expected": expected_version, "b_version": expected_version + 1, "b_state": state,
        "b_status": status, "b_format": serializer_version, "b_now": now}).rowcount == 1


# Process definitions -------------------------------------------------------------------------------
# Every registration asks for the latest version.
_LATEST_DEFINITION = Prepared(select(_PD.c.id).where(_PD.c.key == bindparam("b_key"))
                              .order_by(_PD.c.version.desc()).limit(1))


def latest_definition_id(conn: Executor, key: str) -> int | None:
    return _LATEST_DEFINITION.run(conn, {"b_key": key}).scalar()


# Inbox rows ----------------------------------------------------------------------------------------
_OPEN_TASKS = Prepared(insert(_T))
_COMPLETE_TASK = Prepared(update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == TaskState.OPEN)
                          .values(state=TaskState.COMPLETED, completed_by=bindparam("b_actor"),
                                  completed_at=bindparam("b_now")))
# A task that left the ready set without being the one completed was withdrawn by the process
# (an interrupting event, a cancelled branch).
_CANCEL_TASKS = (update(_T).where(_T.c.id.in_(bindparam("b_ids", expanding=True)), _T.c.state == TaskState.OPEN)
                 .values(state=TaskState.CANCELLED, completed_at=bindparam("b_now")))
_TASKS_BY_ID = select(_T).where(_T.c.id.in_(bindparam("b_ids", expanding=True)))


# The step's writes whose outcome nobody reads are deferred (app.prepared): on PostgreSQL they travel with
# the step's next statement instead of a round trip each.
def open_tasks(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    _OPEN_TASKS.defer_many(conn, rows)


def complete_task(conn: Connection, task_id: str, *, actor: str, now: datetime) -> None:
    _COMPLETE_TASK.defer(conn, {"b_id": task_id, "b_actor": actor, "b_now": now})


def cancel_tasks(conn: Connection, task_ids: list[str], now: datetime) -> None:
    conn.execute(_CANCEL_TASKS, {"b_ids": task_ids, "b_now": now})


def tasks_by_id(conn: Connection, task_ids: list[str]) -> list[Any]:
    return list(conn.execute(_TASKS_BY_ID, {"b_ids": task_ids}))


# Timers --------------------------------------------------------------------------------------------
_INSERT_TIMERS = Prepared(insert(_TM))
# Escalation rungs of tasks that closed, whatever their kind (the ladder stops when the work is done).
# (timer_state_is: SQLite updates 4x faster when it sees the partial index's own condition.)
_CANCEL_TASK_TIMERS = (update(_TM).where(_TM.c.task_id.in_(bindparam("b_tasks", expanding=True)),
                                         timer_state_is(TimerState.WAITING)).values(state=TimerState.CANCELLED))
_CANCEL_ONE_TASK_TIMERS = Prepared(update(_TM).where(_TM.c.task_id == bindparam("b_task"),
                                                     timer_state_is(TimerState.WAITING))
                                   .values(state=TimerState.CANCELLED))
_CANCEL_ENGINE_TIMERS = (update(_TM).where(_TM.c.instance_id == bindparam("b_instance"),
                                           _TM.c.task_id.in_(bindparam("b_tasks", expanding=True)),
                                           timer_state_is(TimerState.WAITING)).values(state=TimerState.CANCELLED))


def insert_timers(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    _INSERT_TIMERS.defer_many(conn, rows)


def cancel_timers_of_tasks(conn: Connection, task_ids: list[str]) -> None:
    """Cancel the waiting rungs of tasks that closed."""
    if len(task_ids) == 1:
        _CANCEL_ONE_TASK_TIMERS.defer(conn, {"b_task": task_ids[0]})
    elif task_ids:
        conn.execute(_CANCEL_TASK_TIMERS, {"b_tasks": task_ids})


def cancel_engine_timers(conn: Connection, instance_id: int, task_ids: list[str]) -> None:
    """Cancel the waiting timers of the instance's timer events that no longer wait."""
    conn.execute(_CANCEL_ENGINE_TIMERS, {"b_instance": instance_id, "b_tasks": task_ids})


# Cases ---------------------------------------------------------------------------------------------
_CASE_NO = Prepared(select(_C.c.case_no).where(_C.c.id == bindparam("b_id")))
_NEW_PROCEDURE = and_(bindparam("b_procedure").is_not(None), _C.c.procedure.is_distinct_from(bindparam("b_procedure")))
# The columns a step may write, returned with the summary so that the next step knows the row.
_STEP_COLUMNS = (*CASE_FIELDS, "status", "procedure", "procedure_since", "closed_at", "process_instance_id")
_RETURNED = tuple(_C.c[name] for name in dict.fromkeys((*CASE_SUMMARY_COLUMNS, *_STEP_COLUMNS)))
# The row as it stands unknown (the first step of this process on the case): the database keeps what the
# engine does not speak about.
_WRITE_CASE = Prepared(update(_C).where(_C.c.id == bindparam("b_id")).values({
    **{name: sql_case((bindparam(f"k_{name}"), bindparam(f"v_{name}")), else_=_C.c[name]) for name in CASE_FIELDS},
    "status": func.coalesce(bindparam("b_status"), _C.c.status),
    "procedure": func.coalesce(bindparam("b_procedure"), _C.c.procedure),
    "procedure_since": sql_case((_NEW_PROCEDURE, bindparam("b_now")), else_=_C.c.procedure_since),
    "closed_at": func.coalesce(bindparam("b_closed"), _C.c.closed_at),
    "updated_at": bindparam("b_now"), "process_instance_id": bindparam("b_instance"),
}).returning(*_RETURNED))


def case_no_of(conn: Connection, case_id: int) -> str:
    return str(_CASE_NO.run(conn, {"b_id": case_id}).scalar_one())


def write_case_of_step(conn: Connection, case_id: int, *, data: dict[str, Any], status: str | None,
                       procedure: str | None, now: datetime, closed: datetime | None, instance_id: int) -> Any:
    """Write what a step decided into a case row not known beforehand; returns the new row (the summary's
    columns and those a step writes). Decision fields the step's data does not name keep their values;
    `procedure_since` moves only when the procedure changes."""
    values: dict[str, Any] = {f"v_{n}": data.get(n) for n in CASE_FIELDS}
    values.update({f"k_{n}": n in data for n in CASE_FIELDS})
    return _WRITE_CASE.run(conn, {**values, "b_id": case_id, "b_status": status, "b_procedure": procedure,
                                  "b_now": now, "b_closed": closed, "b_instance": instance_id}).one()


@lru_cache(maxsize=256)
def _write_columns(columns: tuple[str, ...]) -> Prepared:
    values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in columns}
    return Prepared(update(_C).where(_C.c.id == bindparam("b_id")).values({**values, "updated_at": bindparam("b_now")}))


def write_case_columns(conn: Connection, case_id: int, changed: dict[str, Any], now: datetime) -> bool:
    """The UPDATE of just these columns (and updated_at). With the row known, a step writes only what it
    changes (a column in an UPDATE's SET costs its index entries being rewritten even when the value
    stays the same) and needs nothing back. False when the case does not exist."""
    columns = tuple(sorted(changed))
    written: Rows = _write_columns(columns).run(conn, {**{f"v_{n}": changed[n] for n in columns}, "b_id": case_id,
                                                       "b_now": now})
    return written.rowcount == 1


# Audit log -----------------------------------------------------------------------------------------
# (the chain and its heads: app.services.kernel.audit)
_AH = table_of(AuditHead)
_INSERT_AUDIT = Prepared(insert(table_of(AuditEntry)))
_ADVANCE_HEAD = Prepared(update(_AH).where(_AH.c.chain == bindparam("b_chain"), _AH.c.seq == bindparam("b_seq"),
                                           _AH.c.hash == bindparam("b_hash"))
                         .values(seq=bindparam("b_to_seq"), hash=bindparam("b_to_hash")))
_LOCK_HEAD = Prepared(select(_AH.c.seq, _AH.c.hash).where(_AH.c.chain == bindparam("b_chain")).with_for_update())
_NEW_HEAD = {"postgresql": Prepared(postgresql_insert(_AH).on_conflict_do_nothing()),
             "sqlite": Prepared(sqlite_insert(_AH).on_conflict_do_nothing())}


def insert_audit(conn: Executor, entries: Sequence[dict[str, Any]]) -> None:
    _INSERT_AUDIT.defer_many(conn, entries)


def advance_audit_head(conn: Executor, chain: int, head: tuple[int, str], to: tuple[int, str]) -> bool:
    """Move the chain's head from `head` (seq, hash) to `to`, locking its row; False (nothing changed) when
    the head is not `head` (PostgreSQL waits for a transaction that holds the row, then looks again)."""
    return _ADVANCE_HEAD.run(conn, {"b_chain": chain, "b_seq": head[0], "b_hash": head[1], "b_to_seq": to[0],
                                    "b_to_hash": to[1]}).rowcount == 1


def lock_audit_head(conn: Executor, chain: int) -> tuple[int, str] | None:
    """The chain's head (seq, hash), its row locked for this transaction; None when it has none yet."""
    row = _LOCK_HEAD.run(conn, {"b_chain": chain}).one_or_none()
    return None if row is None else (int(row.seq), str(row.hash))


def create_audit_head(conn: Executor, chain: int, head: tuple[int, str]) -> bool:
    """Record the head of a chain that had none; False when another transaction did meanwhile."""
    dialect = (conn.get_bind() if isinstance(conn, Session) else conn).dialect.name
    return _NEW_HEAD[dialect].run(conn, {"chain": chain, "seq": head[0], "hash": head[1]}).rowcount == 1
