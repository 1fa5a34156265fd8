"""Keep the inbox, the timers table and the case row in step with the engine after every step.

Runs inside the caller's transaction, right after the engine moved, so that the case state, the
inbox and the audit log can never disagree. Work is derived from what changed in memory (ready tasks
and timers before vs after the step), so a step costs a handful of statements, not a reload.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from app import clock
from app.engine import runner
from app.engine.views import HumanTask
from app.models import Case, TaskRow, Timer
from app.services import audit
from app.services.instances import LiveInstance

# Decision fields of the route (route.md) that the case row mirrors for lists, filters and reports.
CASE_FIELDS = ("category", "risk_level", "handling_group", "complexity", "outcome", "satisfied", "reopen_count")


def sync(session: Session, live: LiveInstance, case: Case, *, actor: str,
         completed_task_id: str | None = None) -> list[HumanTask]:
    """Apply the engine's new state; returns the human tasks that are open now."""
    now = clock.now()
    ready = runner.ready_human_tasks(live.workflow)
    ready_ids = {task.id for task in ready}
    _close_tasks(session, live.ready_before - ready_ids, completed_task_id, actor, now)
    opened = [task for task in ready if task.id not in live.ready_before]
    if opened:
        session.execute(insert(TaskRow), [
            {"id": t.id, "instance_id": live.id, "case_id": case.id, "bpmn_id": t.bpmn_id, "title": t.title,
             "group_name": t.group, "state": "open", "form_key": t.form_schema, "created_at": now,
             "escalation_level": 0} for t in opened])
        for task in opened:
            audit.record(session, actor="system", action="task.opened", case_id=case.id, instance_id=live.id,
                         task_id=task.id, detail={"task": task.bpmn_id, "title": task.title, "group": task.group})
    _sync_timers(session, live)
    _project_case(case, live, ready, now)
    live.ready_before = ready_ids
    return ready


def _close_tasks(session: Session, gone: set[str], completed_task_id: str | None, actor: str,
                 now: datetime) -> None:
    if not gone:
        return
    # A task that left the ready set without being the one completed was withdrawn by the process
    # (an interrupting event, a cancelled branch).
    state = sql_case((TaskRow.id == completed_task_id, "completed"), else_="cancelled")
    by = sql_case((TaskRow.id == completed_task_id, actor), else_=None)
    session.execute(update(TaskRow).where(TaskRow.id.in_(gone), TaskRow.state == "open")
                    .values(state=state, completed_by=by, completed_at=now)
                    .execution_options(synchronize_session=False))


def _sync_timers(session: Session, live: LiveInstance) -> None:
    after = {(t.task_id, t.fire_at): t for t in runner.waiting_timers(live.workflow)}
    if set(after) == live.timers_before:
        return
    gone = {task_id for task_id, _ in live.timers_before - set(after)}
    if gone:
        session.execute(update(Timer).where(Timer.instance_id == live.id, Timer.task_id.in_(gone),
                                            Timer.state == "waiting").values(state="cancelled")
                        .execution_options(synchronize_session=False))
    new = [t for key, t in after.items() if key not in live.timers_before]
    if new:
        session.execute(insert(Timer), [
            {"instance_id": live.id, "task_id": t.task_id, "bpmn_id": t.bpmn_id,
             "fire_at": _utc(t.fire_at), "state": "waiting", "attempts": 0} for t in new])
    live.timers_before = set(after)


def _project_case(case: Case, live: LiveInstance, ready: list[HumanTask], now: datetime) -> None:
    data: dict[str, Any] = runner.latest_data(live.workflow)
    for name in CASE_FIELDS:
        if name in data and getattr(case, name) != data[name]:
            setattr(case, name, data[name])
    if runner.is_completed(live.workflow):
        case.status, case.closed_at = "closed", now
    else:
        status = next((t.properties["caseStatus"] for t in ready if "caseStatus" in t.properties), None)
        if status:
            case.status = status
    procedure = next((t.properties["procedure"] for t in ready if "procedure" in t.properties), None)
    if procedure and procedure != case.procedure:
        case.procedure, case.procedure_since = procedure, now
    case.updated_at = now


def _utc(iso: str) -> datetime:
    value = datetime.fromisoformat(iso)
    # The engine reports naive times in the server's local zone (engine.md); make them explicit.
    return value if value.tzinfo else value.astimezone()
