"""Keep the inbox, the timers table and the case row in step with the engine after every step.

Runs inside the caller's transaction, right after the engine moved, so that the case state, the
inbox and the audit log can never disagree. Work is derived from what changed in memory (ready tasks
and timers before vs after the step), so a step costs a handful of prebuilt statements, not a reload.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from app import clock
from app.engine import runner
from app.engine.records import HumanTask
from app.errors import EngineFailure, NotFound
from app.services.kernel import audit, calendars, present, queries
from app.services.kernel.instances import LiveInstance
from app.services.kernel.queries import CASE_FIELDS
from app.services.kernel.shapes import CaseSummary, TaskItem
from app.states import CASE_TRANSITIONS, CaseStatus, TaskState, TimerState, require_transition
from app.workdays import LimitError

log = logging.getLogger(__name__)
@dataclass
class StepOutcome:
    case: CaseSummary  # the case summary after the step
    open_tasks: list[TaskItem]  # inbox items of the tasks open now
    unrecorded: list[dict[str, Any]]  # the audit records the caller still has to write (sync(record=False))


def sync(conn: Connection, live: LiveInstance, case_id: int, *, actor: str, completed_task_id: str | None = None,
         entries: list[dict[str, Any]] | None = None, case_no: str | None = None,
         now: datetime | None = None, record: bool = True) -> StepOutcome:
    """Apply the engine's new state and write `entries` plus the step's own audit records. `now` is the
    instant of the step (default: now): its rows and records all carry it. A caller that locks more rows
    after the step passes record=False and writes `unrecorded` last (kernel/audit.py: record last)."""
    now = now or clock.now()
    entries = list(entries or [])
    if case_no is None:
        case_no = queries.case_no_of(conn, case_id)
    ready_ids = runner.ready_task_ids(live.workflow)
    gone = live.ready_before - ready_ids
    if completed_task_id in gone:
        queries.complete_task(conn, completed_task_id, actor=actor, now=now)
    cancelled = gone - {completed_task_id}
    if cancelled:
        queries.cancel_tasks(conn, sorted(cancelled), now)
    new_tasks = runner.describe(live.workflow, sorted(ready_ids - live.ready_before))
    opened, rungs = _open_rows(conn, new_tasks, live, case_id, case_no, now)
    queries.cancel_timers_of_tasks(conn, sorted(gone))
    if opened:
        queries.open_tasks(conn, opened)
        if rungs:
            queries.insert_timers(conn, rungs)
        entries += [audit.entry(actor="system", action="task.opened", case_id=case_id, instance_id=live.id, at=now,
                                task_id=row["id"], detail={"task": row["bpmn_id"], "title": row["title"],
                                                           "group": row["group_name"]}) for row in opened]
    _sync_timers(conn, live, case_id)
    case = _project_case(conn, case_id, live, new_tasks, now)
    if case.status == CaseStatus.CLOSED and case.closed_at == now:  # closed by this very step
        entries.append(audit.entry(actor="system", action="case.closed", case_id=case_id, instance_id=live.id, at=now,
                                   detail={"outcome": case.outcome, "satisfied": case.satisfied}))
    if record:
        audit.record_many(conn, entries)
    live.ready_before = ready_ids
    items = [present.task_item(SimpleNamespace(**row), case.case_no) for row in opened]
    still_open = ready_ids - {row["id"] for row in opened}
    if still_open:
        items += [present.task_item(row, row.case_no) for row in queries.tasks_by_id(conn, sorted(still_open))]
    summary = present.case_summary(case)
    summary["process_instance_id"] = live.id
    return StepOutcome(case=summary, open_tasks=items, unrecorded=[] if record else entries)


def _open_rows(conn: Connection, tasks: list[HumanTask], live: LiveInstance, case_id: int, case_no: str,
               now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Inbox rows of newly opened tasks, with their due instants and escalation rungs. A case's type is
    its process's key (a migration to another version keeps the key)."""
    rows, rungs = [], []
    instance_id = live.id
    calendar = calendars.current(conn) if any(t.time_limit for t in tasks) else None
    for task in tasks:
        due_at, provisional = None, False
        if task.time_limit and calendar is not None:
            try:
                due, ladder = calendars.ladder(calendar, now, task.time_limit, task.working_days, ("warning",))
            except LimitError as exc:
                raise EngineFailure(task.bpmn_id, f"timeLimit: {exc}", name=task.title) from exc
            due_at, provisional = due.at, due.provisional
            if provisional:
                log.info("due instant of %s on %s is provisional (no calendar for its year yet)", task.bpmn_id,
                         case_no)
            # Only the first rung waits in the table: most work is done before it, and each rung that
            # fires puts the next one in (app.services.kernel.timers).
            rung = ladder["warning"]
            rungs.append(timer_row(instance_id, case_id, task.id, task.bpmn_id, "warning", rung.at, rung.provisional))
        rows.append({"id": task.id, "instance_id": instance_id, "case_id": case_id, "case_no": case_no,
                     "case_type": live.definition.key, "bpmn_id": task.bpmn_id, "title": task.title,
                     "group_name": task.group, "assignee": None,
                     "state": TaskState.OPEN, "form_key": task.form_key, "created_at": now, "due_at": due_at,
                     "due_provisional": provisional, "time_limit": task.time_limit, "limit_working": task.working_days,
                     "completed_at": None, "completed_by": None, "escalation_level": 0})
    return rows, rungs


def timer_row(instance_id: int, case_id: int, task_id: str, bpmn_id: str, kind: str, fire_at: datetime,
             provisional: bool) -> dict[str, Any]:
    """A waiting row of the timers table: an escalation rung of a task, or a timer event of the diagram."""
    return {"instance_id": instance_id, "case_id": case_id, "task_id": task_id, "bpmn_id": bpmn_id, "kind": kind,
            "fire_at": fire_at, "provisional": provisional, "state": TimerState.WAITING, "attempts": 0,
            "last_error": None, "fired_at": None, "fired_by": None}


def _sync_timers(conn: Connection, live: LiveInstance, case_id: int) -> None:
    after = {(t.task_id, t.fire_at): t for t in runner.waiting_timers(live.workflow)}
    if set(after) == live.timers_before:
        return
    gone = {task_id for task_id, _ in live.timers_before - set(after)}
    if gone:
        queries.cancel_engine_timers(conn, live.id, list(gone))
    new = [t for key, t in after.items() if key not in live.timers_before]
    if new:
        queries.insert_timers(conn, [timer_row(live.id, case_id, t.task_id, t.bpmn_id, "engine", _utc(t.fire_at),
                                                   False) for t in new])
    live.timers_before = set(after)


def _project_case(conn: Connection, case_id: int, live: LiveInstance, opened: list[HumanTask],
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
    status = CaseStatus.CLOSED if completed else (main.case_status if main is not None else None)
    procedure = next((t.procedure for t in opened if t.procedure), None)
    known = live.case_row
    if known is None:
        row = queries.write_case_of_step(conn, case_id, data=data, status=status, procedure=procedure, now=now,
                                         closed=now if completed else None, instance_id=live.id)
    else:
        if status is not None:
            require_transition(CASE_TRANSITIONS, known.status, status)
        wanted = {n: data[n] for n in CASE_FIELDS if n in data}
        wanted.update({"status": status, "procedure": procedure, "closed_at": now if completed else None})
        if procedure is not None and procedure != known.procedure:
            wanted["procedure_since"] = now
        wanted["process_instance_id"] = live.id
        changed = {n: v for n, v in wanted.items() if (v is not None or n in CASE_FIELDS) and v != getattr(known, n)}
        if not queries.write_case_columns(conn, case_id, changed, now):
            raise NotFound(f"case {case_id} does not exist")
        row = known._replace(**changed)
    live.case_row = row
    return row


def _utc(iso: str) -> datetime:
    value = datetime.fromisoformat(iso)
    # The engine reports naive times in the server's local zone (engine.md); make them explicit.
    return value if value.tzinfo else value.astimezone()
