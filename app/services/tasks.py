"""The inbox: list, open, claim, hand over and complete human tasks."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, select, update
from sqlalchemy.orm import Session

from app import clock
from app.engine import runner
from app.errors import Forbidden, FormInvalid, NotFound, TaskHeldByOther, TaskNotOpen, ValidationFailed
from app.extensions import db
from app.forms import validate_submission
from app.models import Case, TaskRow
from app.services import audit, definitions, instances, present, projection
from app.services.auth import Principal, find_principal
from app.services.paging import Page, paginate

SCOPES = ("mine", "group", "all")


def _may_see(principal: Principal) -> ColumnElement[bool]:
    if principal.has_role("supervisor"):
        return TaskRow.id.is_not(None)
    groups = list(principal.groups)
    return (TaskRow.group_name.in_(groups) if groups else false()) | (TaskRow.assignee == principal.username)


def list_tasks(principal: Principal, *, scope: str = "group", overdue: bool | None = None,
               case_no: str | None = None, name: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    if scope not in SCOPES:
        raise ValidationFailed(f"scope must be one of {', '.join(SCOPES)}")
    query = select(TaskRow, Case.case_no).join(Case, Case.id == TaskRow.case_id).where(TaskRow.state == "open")
    if scope == "mine":
        query = query.where(TaskRow.assignee == principal.username)
    elif scope == "group":
        groups = list(principal.groups)
        query = query.where(TaskRow.group_name.in_(groups) if groups else false())
    else:
        principal.require_role("supervisor")
    if overdue is not None:
        late = TaskRow.due_at < clock.now()
        query = query.where(late if overdue else (TaskRow.due_at.is_(None) | ~late))
    if case_no:
        query = query.where(Case.case_no == case_no)
    if name:
        query = query.where(TaskRow.bpmn_id == name)
    query = query.order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.created_at, TaskRow.id)
    with db.transaction() as session:
        return paginate(session, query, page, per_page, present.task_item)


def _visible_task(session: Session, principal: Principal, task_id: str) -> tuple[TaskRow, str]:
    """The task and its case number; NotFound for unknown ids and for tasks the caller may not see."""
    query = select(TaskRow, Case.case_no).join(Case, Case.id == TaskRow.case_id).where(
        TaskRow.id == task_id, _may_see(principal))
    row = session.execute(query.execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row[0], row[1]


def get_task(principal: Principal, task_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        task, case_no = _visible_task(session, principal, task_id)
        item = present.task_item(task, case_no)
        item["form"], item["data"] = None, {}
        if task.form_key:
            workflow, info = instances.read(session, task.instance_id)
            form = definitions.form_of(session, info, task.form_key)
            item["form"] = {"key": form.key, "schema": form.schema, "ui_schema": form.ui_schema}
            item["data"] = _prefill(form.schema, runner.task_data(workflow, task.id)) if task.state == "open" else {}
        return item


def _prefill(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Values for the form's own fields: the current value, else the variable named by `x-prefill`
    (the routing table's suggestion for `handling_group`, for example)."""
    values = {}
    for field, spec in schema.get("properties", {}).items():
        if field in data:
            values[field] = data[field]
        elif isinstance(spec, dict) and spec.get("x-prefill") in data:
            values[field] = data[spec["x-prefill"]]
    return values


def claim(principal: Principal, task_id: str) -> dict[str, Any]:
    return _set_assignee(principal, task_id, principal.username, action="task.claimed")


def unclaim(principal: Principal, task_id: str) -> dict[str, Any]:
    return _set_assignee(principal, task_id, None, action="task.unclaimed")


def assign(principal: Principal, task_id: str, username: str) -> dict[str, Any]:
    principal.require_role("supervisor")
    target = find_principal(username)
    if target is None:
        raise ValidationFailed(f"user {username!r} does not exist")
    return _set_assignee(principal, task_id, username, action="task.assigned", target=target)


def _set_assignee(principal: Principal, task_id: str, assignee: str | None, *, action: str,
                  target: Principal | None = None) -> dict[str, Any]:
    with db.transaction() as session:
        task, case_no = _visible_task(session, principal, task_id)
        if task.state != "open":
            raise TaskNotOpen(f"task {task_id} is {task.state}")
        by_supervisor = action == "task.assigned"
        if not by_supervisor and task.group_name not in principal.groups and "admin" not in principal.roles:
            raise Forbidden("only members of the task's group may claim it")
        if target is not None and task.group_name not in target.groups:
            raise ValidationFailed(f"{target.username} is not a member of group {task.group_name}")
        holder_ok = TaskRow.assignee.is_(None) | (TaskRow.assignee == principal.username)
        if action == "task.unclaimed":
            holder_ok = TaskRow.assignee == principal.username
        guard = [TaskRow.id == task_id, TaskRow.state == "open"]
        if not by_supervisor:
            guard.append(holder_ok)
        # One conditional UPDATE: of two officers claiming at once exactly one matches the row.
        result = session.execute(update(TaskRow).where(*guard).values(assignee=assignee)
                                 .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise TaskHeldByOther(f"task {task_id} is held by {task.assignee or 'nobody'}")
        audit.record(session, actor=principal.username, action=action, case_id=task.case_id,
                     instance_id=task.instance_id, task_id=task.id,
                     detail={"task": task.bpmn_id, "title": task.title, "assignee": assignee,
                             "previous": task.assignee})
        task.assignee = assignee
        return present.task_item(task, case_no)


def complete(principal: Principal, task_id: str, data: Any) -> dict[str, Any]:
    """Validate `data` against the task's form, complete the task and advance the case, in one transaction."""
    with db.transaction() as session:
        task, case_no = _visible_task(session, principal, task_id)
        # Lock the instance first, then re-read the task: a racing completion is then either fully
        # visible (task no longer open -> 409) or has not started.
        live = instances.lock(session, task.instance_id)
        task, case_no = _visible_task(session, principal, task_id)
        if task.state != "open":
            raise TaskNotOpen(f"task {task_id} is already {task.state}")
        if task.assignee != principal.username:
            raise TaskHeldByOther("claim the task before completing it" if task.assignee is None
                                  else f"task {task_id} is held by {task.assignee}")
        submitted = data if isinstance(data, dict) else None
        if task.form_key:
            form = definitions.form_of(session, live.definition, task.form_key)
            errors = validate_submission(form.schema, data)
            if errors:
                raise FormInvalid(f"the {task.title} form has errors", errors)
        elif submitted:
            raise FormInvalid("this task takes no form data")
        runner.complete_task(live.workflow, task_id, submitted or {})
        instances.save(session, live)
        case = session.get(Case, task.case_id)
        assert case is not None
        audit.record(session, actor=principal.username, action="task.completed", case_id=case.id,
                     instance_id=live.id, task_id=task.id,
                     detail={"task": task.bpmn_id, "title": task.title, "data": submitted or {}})
        ready = projection.sync(session, live, case, actor=principal.username, completed_task_id=task_id)
        if case.status == "closed":
            audit.record(session, actor="system", action="case.closed", case_id=case.id, instance_id=live.id,
                         detail={"outcome": case.outcome, "satisfied": case.satisfied})
        next_ids = {t.id for t in ready}
        next_rows = session.scalars(select(TaskRow).where(TaskRow.id.in_(next_ids))).all() if next_ids else []
        return {"case": present.case_summary(case),
                "next_tasks": [present.task_item(t, case_no) for t in next_rows]}

