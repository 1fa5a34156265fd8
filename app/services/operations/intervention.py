"""流程干预: move a running case's token from one element to another (send back to dispatch, skip a step).

The task at `from` closes as cancelled (it was not done), the task at `to` opens with its own time limit
and escalation ladder, counted from now; the reason goes on the timeline. One transaction, as any step.
"""
from __future__ import annotations

from typing import Any

from app import clock
from app.database import db
from app.engine import intervention
from app.errors import Bilingual, Conflict, EngineFailure, ValidationFailed
from app.services.kernel import audit, incidents, instances, projection
from app.services.kernel.principals import Principal
from app.services.operations import common
from app.states import InstanceStatus


def _element(body: Any, field: str) -> str:
    value = body.get(field) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.of_field(field, "请填写环节", "an element (BPMN id) is required")
    return value.strip()


def move(principal: Principal, instance_id: int, body: Any) -> dict[str, Any]:
    source, target = _element(body, "from"), _element(body, "to")
    reason, version = common.reason_of(body), common.expected_version(body)
    try:
        return _move(principal, instance_id, source, target, reason, version)
    except EngineFailure as failure:
        incidents.record_step_failure(failure, f"moving instance {instance_id}", operation=incidents.MOVE,
                                      instance_id=instance_id)
        raise


def _move(principal: Principal, instance_id: int, source: str, target: str, reason: str,
          version: int | None) -> dict[str, Any]:
    with db.command() as conn:
        case, instance = common.lock_instance(conn, principal, instance_id, version)
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict(Bilingual(f"案件 {case.case_no} 当前状态为 {case.status}，不能干预",
                                     f"case {case.case_no} is {case.status}: only running cases can be moved"))
        live = instances.lock(conn, instance_id)
        intervention.move_token(live.workflow, source, target)
        now = clock.now()
        instances.save(conn, live, now)
        moved = audit.entry(actor=principal.username, action="case.moved", case_id=case.id, instance_id=instance_id,
                            at=now, detail={"from": source, "to": target, "reason": reason})
        outcome = projection.sync(conn, live, case.id, actor=principal.username, entries=[moved],
                                  case_no=case.case_no, now=now)
        return {"case": outcome.case, "next_tasks": outcome.open_tasks}
