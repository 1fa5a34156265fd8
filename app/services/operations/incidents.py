"""The operators' side of incidents (kernel/incidents.py records them): list, retry, resolve.

Retrying a timer incident puts its timer back in the queue (waiting, attempts from zero, due now): the
timer service fires it on its next pass, with whatever was fixed meanwhile (a definition migrated to, a
calendar imported). Retrying a step incident runs the instance's engine steps again from where it is
stored: a state that loads again and steps that now pass resolve it; a failure comes back as the same
incident, counted. A registration that failed left no case: there is nothing to retry.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update

from app import clock
from app.database import db
from app.engine import intervention
from app.errors import Bilingual, Conflict, EngineFailure, NotFound
from app.models import Incident, Timer, table_of
from app.services.kernel import audit, incidents, instances, policy, projection
from app.services.kernel.principals import Principal
from app.services.operations import common
from app.states import TIMER_TRANSITIONS, TimerState, require_transition

_I, _TM = table_of(Incident), table_of(Timer)
_INCIDENT = select(_I).where(_I.c.id == bindparam("b_id")).with_for_update()
_RESOLVE = update(_I).where(_I.c.id == bindparam("b_id"), _I.c.resolved_at.is_(None)).values(
    resolved_at=bindparam("b_now"))
_TIMER = select(_TM.c.id, _TM.c.state).where(_TM.c.id == bindparam("b_id")).with_for_update()
_REQUEUE = update(_TM).where(_TM.c.id == bindparam("b_id")).values(
    state=TimerState.WAITING, attempts=0, last_error=None, fire_at=bindparam("b_now"))


def list_incidents(principal: Principal) -> dict[str, Any]:
    scope = policy.operations_scope(principal)
    with db.transaction() as session:
        return {"items": incidents.unresolved(session, limit=200, visible=scope)}


def _load(conn: Any, principal: Principal, incident_id: int) -> Any:
    policy.require_operator(principal)
    row = conn.execute(_INCIDENT, {"b_id": incident_id}).one_or_none()
    if row is None or (row.case_id is not None and not policy.may_operate_on(conn, principal, row.case_id)) or (
            row.case_id is None and policy.operations_scope(principal) is not None):
        raise NotFound(f"incident {incident_id} does not exist")
    if row.resolved_at is not None:
        raise Conflict(Bilingual(f"事件 {incident_id} 已处理", f"incident {incident_id} is resolved already"))
    return row


def resolve(principal: Principal, incident_id: int, body: Any) -> dict[str, Any]:
    reason = common.reason_of(body)
    with db.command() as conn:
        row = _load(conn, principal, incident_id)
        now = clock.now()
        conn.execute(_RESOLVE, {"b_id": row.id, "b_now": now})
        audit.record(conn, actor=principal.username, action="incident.resolved", case_id=row.case_id,
                     instance_id=row.instance_id, at=now,
                     detail={"incident": row.id, "element": row.element, "reason": reason})
    return {"id": incident_id, "resolved": True, "retried": False}


def retry(principal: Principal, incident_id: int) -> dict[str, Any]:
    try:
        return _retry(principal, incident_id)
    except EngineFailure as failure:  # still failing: the same incident, counted once more
        with incidents.recording(failure, f"retrying incident {incident_id}") as conn:
            row = conn.execute(_INCIDENT, {"b_id": incident_id}).one()
            incidents.record_step(conn, failure, operation=row.operation, case_id=row.case_id,
                                  instance_id=row.instance_id, task_id=row.task_id)
        raise


def _retry(principal: Principal, incident_id: int) -> dict[str, Any]:
    with db.command() as conn:
        row = _load(conn, principal, incident_id)
        now = clock.now()
        if row.timer_id is not None:
            timer = conn.execute(_TIMER, {"b_id": row.timer_id}).one()
            if timer.state not in (TimerState.FAILED, TimerState.WAITING):  # fired or cancelled since
                raise Conflict(Bilingual(f"定时器已{timer.state}，无需重试",
                                         f"the timer is {timer.state}: nothing to retry"))
            require_transition(TIMER_TRANSITIONS, timer.state, TimerState.WAITING)
            conn.execute(_REQUEUE, {"b_id": timer.id, "b_now": now})
            detail = {"incident": row.id, "timer": timer.id, "element": row.element}
        elif row.instance_id is not None and row.case_id is not None:
            live = instances.lock(conn, row.instance_id)  # a state that still does not load raises here
            intervention.run_engine_steps(live.workflow)
            instances.save(conn, live, now)
            outcome = projection.sync(conn, live, row.case_id, actor=principal.username, now=now, record=False)
            detail = {"incident": row.id, "element": row.element}
            conn.execute(_RESOLVE, {"b_id": row.id, "b_now": now})
            audit.record_many(conn, [*outcome.unrecorded, audit.entry(
                actor=principal.username, action="incident.retried", case_id=row.case_id,
                instance_id=row.instance_id, at=now, detail=detail)])
            return {"id": incident_id, "resolved": True, "retried": True}
        else:
            raise Conflict(Bilingual("登记失败的事件无法重试：请重新登记案件",
                                     "a failed registration left no case to retry: register it again"))
        conn.execute(_RESOLVE, {"b_id": row.id, "b_now": now})
        audit.record(conn, actor=principal.username, action="incident.retried", case_id=row.case_id,
                     instance_id=row.instance_id, at=now, detail=detail)
    return {"id": incident_id, "resolved": True, "retried": True}
