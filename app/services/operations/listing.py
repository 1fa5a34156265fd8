"""The instance list of the operations console: which cases run on which version, where they wait."""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, exists, false, select

from app.database import db
from app.errors import ValidationFailed
from app.models import Case, Incident, ProcessDefinition, ProcessInstance, TaskRow
from app.services.kernel import policy, present
from app.services.kernel.paging import Page, paginate
from app.services.kernel.principals import Principal
from app.states import InstanceStatus, TaskState

STATES = {"active": InstanceStatus.RUNNING, "completed": InstanceStatus.COMPLETED,
          "cancelled": InstanceStatus.CANCELLED, "suspended": InstanceStatus.SUSPENDED}
# The API's name of an instance status (`running` is `active` there, as the filter spells it).
STATE_NAMES: dict[str, str] = {str(status): name for name, status in STATES.items()}


def filtered(principal: Principal, *, process_key: str | None = None, version: int | None = None,
             state: str | None = None, waiting_at: str | None = None, incident: bool | None = None,
             instance_ids: list[int] | None = None) -> Select[Any]:
    """The instances an operator may act on that match the filters, in a stable order (newest first)."""
    scope = policy.operations_scope(principal)
    if state is not None and state not in STATES:
        raise ValidationFailed.of_field("state", f"必须是以下之一：{'、'.join(STATES)}",
                                        f"state must be one of {', '.join(STATES)}")
    query = (select(ProcessInstance, Case.id.label("case_id"), Case.case_no, ProcessDefinition.key,
                    ProcessDefinition.version.label("definition_version"))
             .join(Case, Case.process_instance_id == ProcessInstance.id)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id))
    conditions: list[ColumnElement[bool]] = [] if scope is None else [scope]
    if process_key:
        conditions.append(ProcessDefinition.key == process_key)
    if version is not None:  # (a version no database integer holds matches nothing, without an overflow)
        conditions.append(ProcessDefinition.version == version if 0 < version < 2**31 else false())
    if state is not None:
        conditions.append(ProcessInstance.status == STATES[state])
    if waiting_at:
        conditions.append(exists().where(TaskRow.instance_id == ProcessInstance.id, TaskRow.state == TaskState.OPEN,
                                         TaskRow.bpmn_id == waiting_at))
    if incident is not None:
        unresolved = exists().where(Incident.instance_id == ProcessInstance.id, Incident.resolved_at.is_(None))
        conditions.append(unresolved if incident else ~unresolved)
    if instance_ids is not None:
        conditions.append(ProcessInstance.id.in_(instance_ids))
    return query.where(*conditions).order_by(ProcessInstance.created_at.desc(), ProcessInstance.id.desc())


def list_instances(principal: Principal, *, page: int = 1, per_page: int = 50, **filters: Any) -> Page:
    query = filtered(principal, **filters)
    with db.transaction() as session:
        result = paginate(session, query, page, per_page, lambda *row: _Row(*row))
        rows = result["items"]
        waiting: dict[int, list[tuple[str, str]]] = {}
        incidents: set[int] = set()
        ids = [row[0].id for row in rows]
        if ids:
            for instance_id, bpmn_id, title in session.execute(
                    select(TaskRow.instance_id, TaskRow.bpmn_id, TaskRow.title)
                    .where(TaskRow.instance_id.in_(ids), TaskRow.state == TaskState.OPEN)
                    .order_by(TaskRow.created_at, TaskRow.id)):
                waiting.setdefault(instance_id, []).append((bpmn_id, title))
            incidents = set(session.scalars(select(Incident.instance_id).where(
                Incident.instance_id.in_(ids), Incident.resolved_at.is_(None))))
        result["items"] = [_item(row, waiting.get(row[0].id, []), row[0].id in incidents) for row in rows]
        return result


class _Row(NamedTuple):
    instance: ProcessInstance
    case_id: int
    case_no: str
    key: str
    definition_version: int


def _item(row: Any, waiting: list[tuple[str, str]], incident: bool) -> dict[str, Any]:
    instance: ProcessInstance = row[0]
    return {"id": instance.id, "case_id": row.case_id, "case_no": row.case_no, "process_key": row.key,
            "version": row.definition_version, "state": STATE_NAMES.get(instance.status, instance.status),
            "waiting_at": [bpmn_id for bpmn_id, _ in waiting], "waiting_titles": [title for _, title in waiting],
            "started_at": present.iso(instance.created_at),
            "suspended_at": present.iso(instance.suspended_at), "incident": incident,
            "instance_version": instance.version}
