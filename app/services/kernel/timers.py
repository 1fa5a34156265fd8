"""The timer service: find due timers in the database, fire each exactly once, retry failures.

Any number of workers (the in-process scheduler of each web node, `concord timers run` processes)
may run at once: due rows are claimed with FOR UPDATE SKIP LOCKED, fired and marked in the same
transaction, so a timer fires once however many workers race for it. Each timer fires in a savepoint:
one broken timer is retried with back-off and, after TIMER_MAX_ATTEMPTS, becomes an incident instead of
blocking the others. Background work never waits for a case's lock (it skips a busy case and comes
back on the next pass), so it cannot deadlock with officers' commands.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from app import clock
from app.database import db
from app.engine import runner
from app.errors import ConcordError, EngineFailure, NotFound
from app.models import TaskRow, Timer, table_of, timer_state_is
from app.runtime import settings
from app.services.kernel import audit, calendars, incidents, instances, notifications, present, projection
from app.states import TaskState, TimerState

log = logging.getLogger(__name__)
_TM, _T = table_of(Timer), table_of(TaskRow)
_DUE = (select(_TM).where(timer_state_is("waiting"), _TM.c.fire_at <= bindparam("b_now"))
        .order_by(_TM.c.fire_at, _TM.c.id).limit(bindparam("b_limit")).with_for_update(skip_locked=True))
_MARK = update(_TM).where(_TM.c.id == bindparam("b_id")).values(
    state=bindparam("b_state"), fired_at=bindparam("b_now"), fired_by=bindparam("b_worker"))
_RETRY = update(_TM).where(_TM.c.id == bindparam("b_id")).values(
    attempts=bindparam("b_attempts"), last_error=bindparam("b_error"), fire_at=bindparam("b_next"),
    state=bindparam("b_state"))
_TASK = select(_T).where(_T.c.id == bindparam("b_id"))
_LOCK_TASK = _TASK.with_for_update(skip_locked=True)
_RAISE_LEVEL = (update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == TaskState.OPEN,
                                 _T.c.escalation_level < bindparam("b_level"))
                .values(escalation_level=bindparam("b_level")))
BUSY_RETRIES, BUSY_PAUSE_SECONDS = 40, 0.05
LEVELS = {"warning": 1, "overdue": 2, "listed": 3}
# The rung a fired rung puts in the table (a task's ladder waits one rung at a time).
NEXT_RUNG = {"warning": "overdue", "overdue": "listed"}
_RUNG_EXISTS = select(_TM.c.id).where(_TM.c.task_id == bindparam("b_task"), _TM.c.kind == bindparam("b_kind"))
_INSERT_TIMER = insert(_TM)
ACTIONS = {"warning": "task.warning", "overdue": "task.overdue", "listed": "task.listed"}


@dataclass
class PassReport:
    fired: int = 0
    skipped: int = 0  # attempts on busy cases (fired on a later round or pass)
    failed: int = 0
    incidents: int = 0


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_once(*, now: datetime | None = None, worker: str | None = None, batch: int | None = None) -> PassReport:
    """Fire everything due at `now` (default: the clock), batch by batch, until nothing due is left."""
    now, worker = now or clock.now(), worker or default_worker_name()
    batch = batch or settings.get("TIMER_BATCH", 50)
    report, idle_rounds = PassReport(), 0
    while True:
        with db.command() as conn:
            rows = conn.execute(_DUE, {"b_now": now, "b_limit": batch}).all()
            if not rows:
                return report
            outcomes = [_fire_safely(conn, row, now, worker) for row in rows]
        for outcome in outcomes:
            setattr(report, outcome, getattr(report, outcome) + 1)
        if outcomes.count("skipped") < len(outcomes):
            idle_rounds = 0
            continue
        # Every due timer left belongs to a case someone else holds right now (an officer, another
        # worker): those transactions are short, so look again shortly, but give up after a while —
        # the next pass takes whatever is still due.
        idle_rounds += 1
        if idle_rounds > BUSY_RETRIES:
            return report
        time.sleep(BUSY_PAUSE_SECONDS)


def _fire_safely(conn: Connection, row: Any, now: datetime, worker: str) -> str:
    try:
        with db.savepoint(conn):
            state = _fire(conn, row, now)
            conn.execute(_MARK, {"b_id": row.id, "b_state": state, "b_now": now, "b_worker": worker})
        return TimerState.FIRED
    except instances.Busy:
        return "skipped"
    except Exception as exc:  # a broken expression, a bug: retry later, never block the others
        return _record_failure(conn, row, exc, now)


def _record_failure(conn: Connection, row: Any, exc: Exception, now: datetime) -> str:
    """In the batch's transaction (the timer's savepoint rolled back): count the attempt and retry later;
    after the last attempt, the timer is failed and an incident (with its timeline record)."""
    attempts = row.attempts + 1
    error = exc.detail if isinstance(exc, ConcordError) else f"{type(exc).__name__}: {exc}"
    gave_up = attempts >= settings.get("TIMER_MAX_ATTEMPTS", 5)
    conn.execute(_RETRY, {"b_id": row.id, "b_attempts": attempts, "b_error": error[:2000],
                          "b_next": now + timedelta(seconds=min(3600, 10 * 2 ** attempts)),
                          "b_state": TimerState.FAILED if gave_up else TimerState.WAITING})
    log.warning("timer %s (%s of %s) failed, attempt %d: %s", row.id, row.kind, row.bpmn_id, attempts, error)
    if gave_up:
        audit.record(conn, actor="system", action="timer.incident", case_id=row.case_id,
                     instance_id=row.instance_id, task_id=row.task_id,
                     detail={"timer": row.id, "kind": row.kind, "task": row.bpmn_id, "error": error[:500]})
        _record_incident(conn, row, exc, error, attempts, now)
        _keep_the_ladder_going(conn, row)
        return "incidents"
    return TimerState.FAILED


def _record_incident(conn: Connection, row: Any, exc: Exception, error: str, attempts: int, now: datetime) -> None:
    """The timer's incident: at the element the engine failed at (EngineFailure), else at the timer's own."""
    if isinstance(exc, EngineFailure):
        element, name, error = exc.element, exc.name, exc.error
    else:
        element = row.bpmn_id
        task = conn.execute(_TASK, {"b_id": row.task_id}).one_or_none() if row.kind != "engine" else None
        name = task.title if task is not None else None
    incidents.record(conn, kind=incidents.TIMER, operation=incidents.FIRE, element=element, element_name=name,
                     error=error, case_id=row.case_id, instance_id=row.instance_id, task_id=row.task_id,
                     timer_id=row.id, occurrences=attempts, now=now, detail={"timer_kind": row.kind})


def _fire(conn: Connection, row: Any, now: datetime) -> str:
    """Fire one timer; returns the state to record ('fired', or 'cancelled' when it no longer applies)."""
    if row.kind == "engine":
        return _fire_engine_timer(conn, row)
    task = conn.execute(_TASK, {"b_id": row.task_id}).one_or_none()
    if task is None or task.state != TaskState.OPEN:
        return TimerState.CANCELLED  # the work was done (or withdrawn) before the rung came due
    # Lock in the commands' order (instance, then task) and never wait: a busy case is skipped and
    # taken on the next pass, so the worker cannot close a lock cycle with an officer's command.
    live = instances.lock(conn, task.instance_id, wait=False) if row.kind == "overdue" else None
    if live is None:
        instances.lock_row(conn, task.instance_id)
    task = conn.execute(_LOCK_TASK, {"b_id": row.task_id}).one_or_none()
    if task is None:
        raise instances.Busy(row.task_id)
    if task.state != TaskState.OPEN:
        return TimerState.CANCELLED
    level = LEVELS[row.kind]
    conn.execute(_RAISE_LEVEL, {"b_id": task.id, "b_level": level})
    entries = [audit.entry(actor="system", action=ACTIONS[row.kind], case_id=task.case_id,
                           instance_id=task.instance_id, task_id=task.id,
                           detail={"task": task.bpmn_id, "title": task.title, "level": level, "timer": row.id,
                                   "due_at": present.iso(task.due_at)})]
    if row.kind in ("overdue", "listed"):
        notifications.notify_handler(conn, task, kind="reminder" if row.kind == "overdue" else "listed",
                                     message=_reminder_text(row.kind, task), actor="system")
    if live is not None:
        _open_supervision(conn, task, live)
    following = NEXT_RUNG.get(row.kind)
    if following is not None:
        _put_rung(conn, task, following)
    audit.record_many(conn, entries)
    return TimerState.FIRED


def _put_rung(conn: Connection, task: Any, kind: str) -> None:
    """Put the task's rung `kind` in the table; once only, however often the rung before fired. Overdue
    comes at the task's due instant, as the inbox shows it; listed is counted from the task's opening
    with today's calendar (a year imported since the task opened counts)."""
    if conn.execute(_RUNG_EXISTS, {"b_task": task.id, "b_kind": kind}).first() is not None:
        return
    if kind == "overdue":
        at, provisional = task.due_at, task.due_provisional
    else:
        _due, ladder = calendars.ladder(calendars.current(conn), task.created_at, task.time_limit,
                                        task.limit_working, (kind,))
        at, provisional = ladder[kind].at, ladder[kind].provisional
    conn.execute(_INSERT_TIMER, projection.timer_row(task.instance_id, task.case_id, task.id, task.bpmn_id, kind,
                                                      at, provisional))


def _keep_the_ladder_going(conn: Connection, row: Any) -> None:
    """A rung that became an incident must not stop the ladder: the next rung is put in all the same."""
    following = NEXT_RUNG.get(row.kind)
    if following is None:
        return
    task = conn.execute(_TASK, {"b_id": row.task_id}).one_or_none()
    if task is None or task.state != TaskState.OPEN:
        return
    try:
        with db.savepoint(conn):
            _put_rung(conn, task, following)
    except Exception:  # noqa: BLE001 - logged; the incident itself is recorded either way
        log.exception("could not put the %s rung of task %s after an incident", following, row.task_id)


def _reminder_text(kind: str, task: Any) -> str:
    if kind == "overdue":
        return f"【催办】{task.case_no}「{task.title}」已超过办理时限，请尽快办理。"
    return f"【挂牌督办】{task.case_no}「{task.title}」超期已达挂牌标准，请书面说明办理情况。"


def _open_supervision(conn: Connection, task: Any, live: instances.LiveInstance) -> None:
    """Tell the process the node is overdue; a boundary event on it opens the supervision task."""
    payload = {"task": task.bpmn_id, "task_id": task.id, "title": task.title, "group": task.group_name,
               "assignee": task.assignee, "due_at": present.iso(task.due_at)}
    try:
        runner.deliver_message(live.workflow, f"overdue_{task.bpmn_id}", payload, near=task.id)
    except NotFound:
        instances.release(conn, live)  # untouched: nothing in this diagram watches the node
        return
    instances.save(conn, live)
    projection.sync(conn, live, task.case_id, actor="system", case_no=task.case_no)


def _fire_engine_timer(conn: Connection, row: Any) -> str:
    live = instances.lock(conn, row.instance_id, wait=False)
    if not runner.fire_timer(live.workflow, row.task_id):
        instances.release(conn, live)
        return TimerState.CANCELLED
    instances.save(conn, live)
    projection.sync(conn, live, row.case_id, actor="system",
                    entries=[audit.entry(actor="system", action="timer.fired", case_id=row.case_id,
                                         instance_id=row.instance_id, detail={"event": row.bpmn_id})])
    return TimerState.FIRED
