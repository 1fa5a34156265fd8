"""Cancel (撤销), suspend (中止) and resume (恢复) a running case, each one transaction with its audit record.

Cancelling keeps the engine's state as it was (it is the record of where the case stood) and closes
everything around it: open tasks leave every inbox (cancelled, not completed), timers are cancelled, the
case and its instance are `cancelled`. Suspending parks the instance: its timers wait in state `suspended`
(the timer service does not see them), its tasks cannot be completed, nothing is delivered to it. Resuming
moves every due instant and pending timer later by the time the case was suspended — working-day time for
limits counted in working days (the centre's calendar), elapsed time for calendar-day limits and for the
diagram's own timers — so that a suspension never counts against a limit.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from app import clock
from app.database import db
from app.engine import intervention
from app.errors import Bilingual, Conflict
from app.models import Case, ProcessInstance, TaskRow, Timer, table_of
from app.services.kernel import audit, calendars, instances, present
from app.services.kernel.principals import Principal
from app.services.operations import common
from app.states import (
    CASE_TRANSITIONS,
    INSTANCE_TRANSITIONS,
    WORKING_STATUSES,
    CaseStatus,
    InstanceStatus,
    TaskState,
    TimerState,
    require_transition,
)

_C, _PI, _T, _TM = table_of(Case), table_of(ProcessInstance), table_of(TaskRow), table_of(Timer)
_OPEN_TASKS = select(_T.c.id, _T.c.bpmn_id, _T.c.title, _T.c.due_at, _T.c.limit_working).where(
    _T.c.instance_id == bindparam("b_instance"), _T.c.state == TaskState.OPEN).order_by(_T.c.created_at, _T.c.id)
_CANCEL_TASKS = (update(_T).where(_T.c.instance_id == bindparam("b_instance"), _T.c.state == TaskState.OPEN)
                 .values(state=TaskState.CANCELLED, completed_at=bindparam("b_now")))
_CANCEL_TIMERS = (update(_TM).where(_TM.c.instance_id == bindparam("b_instance"),
                                    _TM.c.state.in_((TimerState.WAITING, TimerState.SUSPENDED)))
                  .values(state=TimerState.CANCELLED))
_PARK_TIMERS = (update(_TM).where(_TM.c.instance_id == bindparam("b_instance"), _TM.c.state == TimerState.WAITING)
                .values(state=TimerState.SUSPENDED))
_PARKED_TIMERS = select(_TM.c.id, _TM.c.task_id, _TM.c.kind, _TM.c.fire_at).where(
    _TM.c.instance_id == bindparam("b_instance"), _TM.c.state == TimerState.SUSPENDED)
_WAKE_TIMER = update(_TM).where(_TM.c.id == bindparam("b_id")).values(state=TimerState.WAITING,
                                                                      fire_at=bindparam("b_at"))
_SET_DUE = update(_T).where(_T.c.id == bindparam("b_id")).values(due_at=bindparam("b_due"))
_SET_CASE_STATUS = update(_C).where(_C.c.id == bindparam("b_id")).values(status=bindparam("b_status"),
                                                                        updated_at=bindparam("b_now"))
_SET_INSTANCE = update(_PI).where(_PI.c.id == bindparam("b_id"))


def cancel(principal: Principal, case_id: int, body: Any) -> dict[str, Any]:
    reason, version = common.reason_of(body), common.expected_version(body)
    with db.command() as conn:
        case, instance = common.lock_case(conn, principal, case_id, version)
        if case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED) or instance.status in (
                InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
            raise Conflict(Bilingual(f"案件 {case.case_no} 已{_LABEL.get(case.status, case.status)}，不能撤销",
                                     f"case {case.case_no} is {case.status} and cannot be cancelled"))
        now = clock.now()
        tasks = conn.execute(_OPEN_TASKS, {"b_instance": instance.id}).all()
        conn.execute(_CANCEL_TASKS, {"b_instance": instance.id, "b_now": now})
        conn.execute(_CANCEL_TIMERS, {"b_instance": instance.id})
        _set_status(conn, case, instance, CaseStatus.CANCELLED, InstanceStatus.CANCELLED, now,
                    suspended_at=None, status_before_suspension=None)
        audit.record(conn, actor=principal.username, action="case.cancelled", case_id=case.id,
                     instance_id=instance.id, at=now,
                     detail={"reason": reason, "previous": case.status, "tasks": [
                         {"task": t.bpmn_id, "title": t.title, "id": t.id} for t in tasks]})
    return _answer(case, CaseStatus.CANCELLED, instance, now)


def suspend(principal: Principal, case_id: int, body: Any) -> dict[str, Any]:
    reason, version = common.reason_of(body), common.expected_version(body)
    with db.command() as conn:
        case, instance = common.lock_case(conn, principal, case_id, version)
        if instance.status != InstanceStatus.RUNNING or case.status not in WORKING_STATUSES:
            raise Conflict(Bilingual(f"案件 {case.case_no} 已{_LABEL.get(case.status, case.status)}，不能中止",
                                     f"case {case.case_no} is {case.status} and cannot be suspended"))
        now = clock.now()
        conn.execute(_PARK_TIMERS, {"b_instance": instance.id})
        _set_status(conn, case, instance, CaseStatus.SUSPENDED, InstanceStatus.SUSPENDED, now,
                    suspended_at=now, status_before_suspension=case.status)
        audit.record(conn, actor=principal.username, action="case.suspended", case_id=case.id,
                     instance_id=instance.id, at=now, detail={"reason": reason, "previous": case.status})
    return _answer(case, CaseStatus.SUSPENDED, instance, now)


def resume(principal: Principal, case_id: int, body: Any) -> dict[str, Any]:
    reason, version = common.reason_of(body), common.expected_version(body)
    with db.command() as conn:
        case, instance = common.lock_case(conn, principal, case_id, version)
        if instance.status != InstanceStatus.SUSPENDED:
            raise Conflict(Bilingual(f"案件 {case.case_no} 未中止", f"case {case.case_no} is not suspended"))
        now = clock.now()
        calendar = calendars.current(conn)
        working = calendar.working_seconds(instance.suspended_at, now)
        elapsed = (now - instance.suspended_at).total_seconds()
        status = instance.status_before_suspension or CaseStatus.HANDLING
        # Running again first: the workflow's timers are saved below, and a suspended instance is never saved.
        _set_status(conn, case, instance, status, InstanceStatus.RUNNING, now, suspended_at=None,
                    status_before_suspension=None)
        tasks = conn.execute(_OPEN_TASKS, {"b_instance": instance.id}).all()
        limits_working = {t.id: t.limit_working for t in tasks}
        for task in tasks:
            if task.due_at is not None:
                conn.execute(_SET_DUE, {"b_id": task.id, "b_due": calendar.later_by(
                    task.due_at, working if task.limit_working else elapsed, working=task.limit_working)})
        engine_timers: dict[str, datetime] = {}
        for timer in conn.execute(_PARKED_TIMERS, {"b_instance": instance.id}).all():
            counts_working = timer.kind != "engine" and limits_working.get(timer.task_id, True)
            at = calendar.later_by(timer.fire_at, working if counts_working else elapsed, working=counts_working)
            conn.execute(_WAKE_TIMER, {"b_id": timer.id, "b_at": at})
            if timer.kind == "engine":
                engine_timers[timer.task_id] = at
        version = instance.version + 1
        if engine_timers:
            _shift_engine_timers(conn, instance.id, engine_timers)
            version += 1
        audit.record(conn, actor=principal.username, action="case.resumed", case_id=case.id, instance_id=instance.id,
                     at=now, detail={"reason": reason, "suspended_at": present.iso(instance.suspended_at),
                                     "working_seconds": int(working), "status": status})
    return _answer(case, status, instance, now, version)


def _shift_engine_timers(conn: Connection, instance_id: int, fire_at: dict[str, datetime]) -> None:
    """The diagram's own timers wait inside the workflow too: move them there, and save."""
    live = instances.lock(conn, instance_id)
    intervention.shift_timers(live.workflow, {task_id: at.isoformat() for task_id, at in fire_at.items()})
    instances.save(conn, live)
    live.timers_before = intervention.waiting_timer_keys(live.workflow)
    live.case_row = None  # the case row changed outside a step


def _set_status(conn: Connection, case: Any, instance: Any, case_status: str, instance_status: str, now: datetime,
                **columns: Any) -> None:
    require_transition(CASE_TRANSITIONS, case.status, case_status)
    require_transition(INSTANCE_TRANSITIONS, instance.status, instance_status)
    common.bump(conn, instance, now)
    conn.execute(_SET_INSTANCE.values(status=instance_status, **columns), {"b_id": instance.id})
    conn.execute(_SET_CASE_STATUS, {"b_id": case.id, "b_status": case_status, "b_now": now})


def _answer(case: Any, status: str, instance: Any, now: datetime, version: int | None = None) -> dict[str, Any]:
    return {"case_id": case.id, "case_no": case.case_no, "status": status, "process_instance_id": instance.id,
            "version": version or instance.version + 1, "at": present.iso(now)}


_LABEL = {CaseStatus.CLOSED: "结案", CaseStatus.CANCELLED: "撤销", CaseStatus.SUSPENDED: "中止"}
