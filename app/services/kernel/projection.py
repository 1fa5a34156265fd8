"""Keep the inbox, the timers table and the case row in step with the engine after every step.

Runs inside the caller's transaction, right after the engine moved, so that the case state, the
inbox and the audit log can never disagree. Work is derived from what changed in memory (ready tasks
and timers before vs after the step), so a step costs a handful of prebuilt statements, not a reload.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update
from sqlalchemy import case as sql_case

from app import clock
from app.engine import runner
from app.engine.views import HumanTask
from app.errors import EngineFailure, NotFound
from app.models import Case, TaskRow, Timer, table_of, timer_state_is
from app.prepared import Prepared
from app.services.kernel import audit, calendars, present
from app.services.kernel.instances import LiveInstance
from app.workdays import LimitError

log = logging.getLogger(__name__)
# Decision fields of the route (route.md) that the case row mirrors for lists, filters and reports.
CASE_FIELDS = ("category", "risk_level", "handling_group", "complexity", "outcome", "satisfied", "reopen_count")

_T, _C, _TM = table_of(TaskRow), table_of(Case), table_of(Timer)
_OPEN_TASKS = Prepared(insert(_T))
_COMPLETE_TASK = Prepared(update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == "open")
                          .values(state="completed", completed_by=bindparam("b_actor"),
                                  completed_at=bindparam("b_now")))
# A task that left the ready set without being the one completed was withdrawn by the process
# (an interrupting event, a cancelled branch).
_CANCEL_TASKS = (update(_T).where(_T.c.id.in_(bindparam("b_ids", expanding=True)), _T.c.state == "open")
                 .values(state="cancelled", completed_at=bindparam("b_now")))
_TASKS_BY_ID = select(_T).where(_T.c.id.in_(bindparam("b_ids", expanding=True)))
_CASE_NO = Prepared(select(_C.c.case_no).where(_C.c.id == bindparam("b_id")))
_NEW_PROCEDURE = and_(bindparam("b_procedure").is_not(None), _C.c.procedure.is_distinct_from(bindparam("b_procedure")))
# The columns a step may write, returned with the summary so that the next step knows the row.
_STEP_COLUMNS = (*CASE_FIELDS, "status", "procedure", "procedure_since", "closed_at", "process_instance_id")
_RETURNED = tuple(_C.c[name] for name in dict.fromkeys((*present.CASE_SUMMARY_COLUMNS, *_STEP_COLUMNS)))
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


@lru_cache(maxsize=256)
def _write_changed(columns: tuple[str, ...]) -> Prepared:
    """The UPDATE of just these columns (and updated_at). With the row known, a step writes only what it
    changes (a column in an UPDATE's SET costs its index entries being rewritten even when the value
    stays the same) and needs nothing back: the new row is the known one with these values."""
    values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in columns}
    return Prepared(update(_C).where(_C.c.id == bindparam("b_id")).values({**values, "updated_at": bindparam("b_now")}))
_INSERT_TIMERS = Prepared(insert(_TM))
# Escalation rungs of tasks that closed, whatever their kind (the ladder stops when the work is done).
_CANCEL_TASK_TIMERS = (update(_TM).where(_TM.c.task_id.in_(bindparam("b_tasks", expanding=True)),
                                         timer_state_is("waiting")).values(state="cancelled"))
# (timer_state_is: SQLite updates 4x faster when it sees the partial index's own condition.)
_CANCEL_ONE_TASK_TIMERS = Prepared(update(_TM).where(_TM.c.task_id == bindparam("b_task"), timer_state_is("waiting"))
                                   .values(state="cancelled"))
_CANCEL_TIMERS = (update(_TM).where(_TM.c.instance_id == bindparam("b_instance"),
                                    _TM.c.task_id.in_(bindparam("b_tasks", expanding=True)),
                                    timer_state_is("waiting")).values(state="cancelled"))


@dataclass
class StepOutcome:
    case: dict[str, Any]  # the case summary after the step
    open_tasks: list[dict[str, Any]]  # inbox items of the tasks open now


def sync(session: Connection, live: LiveInstance, case_id: int, *, actor: str, completed_task_id: str | None = None,
         entries: list[dict[str, Any]] | None = None, case_no: str | None = None,
         now: datetime | None = None) -> StepOutcome:
    """Apply the engine's new state and write `entries` plus the step's own audit records. `now` is the
    instant of the step (default: now): its rows and records all carry it."""
    now = now or clock.now()
    entries = list(entries or [])
    if case_no is None:
        case_no = _CASE_NO.run(session, {"b_id": case_id}).scalar_one()
    ready_ids = runner.ready_task_ids(live.workflow)
    gone = live.ready_before - ready_ids
    if completed_task_id in gone:
        _COMPLETE_TASK.run(session, {"b_id": completed_task_id, "b_actor": actor, "b_now": now})
    cancelled = gone - {completed_task_id}
    if cancelled:
        session.execute(_CANCEL_TASKS, {"b_ids": sorted(cancelled), "b_now": now})
    new_tasks = runner.describe(live.workflow, sorted(ready_ids - live.ready_before))
    opened, rungs = _open_rows(session, new_tasks, live.id, case_id, case_no, now)
    if len(gone) == 1:
        _CANCEL_ONE_TASK_TIMERS.run(session, {"b_task": next(iter(gone))})
    elif gone:
        session.execute(_CANCEL_TASK_TIMERS, {"b_tasks": sorted(gone)})
    if opened:
        _OPEN_TASKS.run_many(session, opened)
        if rungs:
            _INSERT_TIMERS.run_many(session, rungs)
        entries += [audit.entry(actor="system", action="task.opened", case_id=case_id, instance_id=live.id, at=now,
                                task_id=row["id"], detail={"task": row["bpmn_id"], "title": row["title"],
                                                           "group": row["group_name"]}) for row in opened]
    _sync_timers(session, live, case_id)
    case = _project_case(session, case_id, live, new_tasks, now)
    if case.status == "closed" and case.closed_at == now:  # closed by this very step
        entries.append(audit.entry(actor="system", action="case.closed", case_id=case_id, instance_id=live.id, at=now,
                                   detail={"outcome": case.outcome, "satisfied": case.satisfied}))
    audit.record_many(session, entries)
    live.ready_before = ready_ids
    items = [present.task_item(SimpleNamespace(**row), case.case_no) for row in opened]
    still_open = ready_ids - {row["id"] for row in opened}
    if still_open:
        rows = session.execute(_TASKS_BY_ID, {"b_ids": sorted(still_open)})
        items += [present.task_item(row, row.case_no) for row in rows]
    summary = present.case_summary(case)
    summary["process_instance_id"] = live.id
    return StepOutcome(case=summary, open_tasks=items)


def _open_rows(session: Connection, tasks: list[HumanTask], instance_id: int, case_id: int, case_no: str,
               now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Inbox rows of newly opened tasks, with their due instants and escalation rungs."""
    rows, rungs = [], []
    calendar = calendars.current(session) if any(t.time_limit for t in tasks) else None
    for task in tasks:
        due_at, provisional = None, False
        if task.time_limit and calendar is not None:
            try:
                due, ladder = calendars.ladder(calendar, now, task.time_limit, task.working_days, ("warning",))
            except LimitError as exc:
                raise EngineFailure(f"timeLimit of {task.bpmn_id}: {exc}") from exc
            due_at, provisional = due.at, due.provisional
            if provisional:
                log.info("due instant of %s on %s is provisional (no calendar for its year yet)", task.bpmn_id,
                         case_no)
            # Only the first rung waits in the table: most work is done before it, and each rung that
            # fires puts the next one in (app.services.kernel.timers).
            rung = ladder["warning"]
            rungs.append(timer_row(instance_id, case_id, task.id, task.bpmn_id, "warning", rung.at, rung.provisional))
        rows.append({"id": task.id, "instance_id": instance_id, "case_id": case_id, "case_no": case_no,
                     "bpmn_id": task.bpmn_id, "title": task.title, "group_name": task.group, "assignee": None,
                     "state": "open", "form_key": task.form_schema, "created_at": now, "due_at": due_at,
                     "due_provisional": provisional, "time_limit": task.time_limit, "limit_working": task.working_days,
                     "completed_at": None, "completed_by": None, "escalation_level": 0})
    return rows, rungs


def timer_row(instance_id: int, case_id: int, task_id: str, bpmn_id: str, kind: str, fire_at: datetime,
             provisional: bool) -> dict[str, Any]:
    """A waiting row of the timers table: an escalation rung of a task, or a timer event of the diagram."""
    return {"instance_id": instance_id, "case_id": case_id, "task_id": task_id, "bpmn_id": bpmn_id, "kind": kind,
            "fire_at": fire_at, "provisional": provisional, "state": "waiting", "attempts": 0, "last_error": None,
            "fired_at": None, "fired_by": None}


def _sync_timers(session: Connection, live: LiveInstance, case_id: int) -> None:
    after = {(t.task_id, t.fire_at): t for t in runner.waiting_timers(live.workflow)}
    if set(after) == live.timers_before:
        return
    gone = {task_id for task_id, _ in live.timers_before - set(after)}
    if gone:
        session.execute(_CANCEL_TIMERS, {"b_instance": live.id, "b_tasks": list(gone)})
    new = [t for key, t in after.items() if key not in live.timers_before]
    if new:
        _INSERT_TIMERS.run_many(session, [timer_row(live.id, case_id, t.task_id, t.bpmn_id, "engine", _utc(t.fire_at),
                                                   False) for t in new])
    live.timers_before = set(after)


def _project_case(session: Connection, case_id: int, live: LiveInstance, opened: list[HumanTask],
                  now: datetime) -> Any:
    """One UPDATE ... RETURNING: the engine decides the values, the row keeps what the engine does
    not speak about, and `procedure_since` moves only when the procedure changes.

    The decision fields are read from the main path only: the next main-path task that opened (it names
    the case status) or the finished process. A side branch (a supervision task opened when a node
    went overdue) carries a copy of the data from when it forked, which must never overwrite the case."""
    completed = runner.is_completed(live.workflow)
    main = next((t for t in opened if t.case_status), None)
    data: dict[str, Any] = (main.data if main is not None else
                            runner.latest_data(live.workflow) if completed else {})
    status = "closed" if completed else (main.case_status if main is not None else None)
    procedure = next((t.procedure for t in opened if t.procedure), None)
    known = live.case_row
    if known is None:
        values: dict[str, Any] = {f"v_{n}": data.get(n) for n in CASE_FIELDS}
        values.update({f"k_{n}": n in data for n in CASE_FIELDS})
        row = _WRITE_CASE.run(session, {
            **values, "b_id": case_id, "b_status": status, "b_procedure": procedure, "b_now": now,
            "b_closed": now if completed else None, "b_instance": live.id}).one()
    else:
        wanted = {n: data[n] for n in CASE_FIELDS if n in data}
        wanted.update({"status": status, "procedure": procedure, "closed_at": now if completed else None})
        if procedure is not None and procedure != known.procedure:
            wanted["procedure_since"] = now
        wanted["process_instance_id"] = live.id
        changed = {n: v for n, v in wanted.items() if (v is not None or n in CASE_FIELDS) and v != getattr(known, n)}
        columns = tuple(sorted(changed))
        written = _write_changed(columns).run(session, {**{f"v_{n}": changed[n] for n in columns}, "b_id": case_id,
                                                        "b_now": now})
        if written.rowcount != 1:
            raise NotFound(f"case {case_id} does not exist")
        row = known._replace(**changed)
    live.case_row = row
    return row


def _utc(iso: str) -> datetime:
    value = datetime.fromisoformat(iso)
    # The engine reports naive times in the server's local zone (engine.md); make them explicit.
    return value if value.tzinfo else value.astimezone()
