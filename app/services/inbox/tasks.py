"""The inbox: list, open, claim, hand over and complete human tasks."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, false, select
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.engine import runner
from app.errors import (
    Bilingual,
    EngineFailure,
    FieldError,
    Forbidden,
    FormInvalid,
    NotFound,
    TaskHeldByOther,
    TaskNotOpen,
    ValidationFailed,
)
from app.models import TaskRow
from app.services.inbox import panel, queries
from app.services.kernel import audit, definitions, incidents, instances, oversight, policy, present, projection
from app.services.kernel.paging import Page, paginate
from app.services.kernel.principals import Principal, find_principal
from app.services.kernel.shapes import TaskItem
from app.states import TaskState

SCOPES = ("mine", "group", "all")


def _load(conn: Session | Connection, principal: Principal, task_id: str) -> Any:
    """The task row; NotFound for unknown ids and for tasks the caller may not see."""
    task = queries.task_by_id(conn, task_id)
    if task is None or not policy.can_see_task(principal, task):
        raise NotFound(f"task {task_id} does not exist")
    return task


def list_tasks(principal: Principal, *, scope: str = "group", overdue: bool | None = None,
               case_no: str | None = None, name: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    if scope not in SCOPES:
        raise ValidationFailed(f"scope must be one of {', '.join(SCOPES)}",
                               [FieldError("scope", Bilingual("必须是以下之一",
                                                              f"must be one of: {', '.join(SCOPES)}"))])
    query = select(TaskRow).where(TaskRow.state == TaskState.OPEN)
    if scope == "mine":
        query = query.where(TaskRow.assignee == principal.username)
    elif scope == "group":
        groups = list(principal.groups)
        query = query.where(TaskRow.group_name.in_(groups) if groups else false())
    else:
        query = query.where(policy.overseen_tasks(principal))
    if overdue is not None:
        late = TaskRow.due_at < clock.now()
        query = query.where(late if overdue else (TaskRow.due_at.is_(None) | ~late))
    if case_no:
        query = query.where(TaskRow.case_no == case_no)
    if name:
        query = query.where(TaskRow.bpmn_id == name)
    query = query.order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.created_at, TaskRow.id)
    with db.transaction() as session:
        return paginate(session, query, page, per_page, lambda task: present.task_item_for(principal, task))


def get_task(principal: Principal, task_id: str) -> TaskItem:
    task: Any = None
    try:
        with db.transaction() as session:
            task = _load(session, principal, task_id)
            item = present.task_item_for(principal, task)
            item["form"], item["data"] = None, {}
            if task.form_key:
                workflow, info = instances.read(session, task.instance_id)
                form = definitions.form_of(session, info, task.form_key)
                data = runner.task_data(workflow, task.id)
                item["form"] = {"key": form.key, "schema": form.for_context(data), "ui_schema": form.ui_schema}
                item["data"] = _prefill(form.schema, data) if task.state == TaskState.OPEN else {}
            panel.with_case(session, principal, item, task.case_id, task.id)
            return item
    except EngineFailure as failure:  # the case's stored state does not load: an incident, as for a step
        incidents.record_step_failure(failure, f"opening task {task_id}", operation=incidents.OPEN,
                                      case_id=task.case_id, instance_id=task.instance_id, task_id=task.id)
        raise


def _prefill(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Values for the form's own fields: the current value, else the variable named by `x-prefill`
    (the routing table's suggestion for `handling_group`, for example). A variable without a value yet
    (None) prefills nothing: sent back as it came, the form would refuse it."""
    values = {}
    for field, spec in schema.get("properties", {}).items():
        if data.get(field) is not None:
            values[field] = data[field]
        elif isinstance(spec, dict) and data.get(str(spec.get("x-prefill"))) is not None:
            values[field] = data[spec["x-prefill"]]
    return values


def claim(principal: Principal, task_id: str) -> TaskItem:
    with db.command() as conn:
        task = _open_task(conn, principal, task_id)
        if not policy.is_member(principal, task):
            raise Forbidden("only members of the task's group may claim it")
        _held_unless(queries.claim(conn, task.id, principal.username), task)
        return _assigned(conn, principal, task, principal.username, "task.claimed")


def unclaim(principal: Principal, task_id: str) -> TaskItem:
    with db.command() as conn:
        task = _open_task(conn, principal, task_id)
        _held_unless(queries.unclaim(conn, task.id, principal.username), task)
        return _assigned(conn, principal, task, None, "task.unclaimed")


def assign(principal: Principal, task_id: str, username: str) -> TaskItem:
    principal.require_role("supervisor")
    target = find_principal(username)
    if target is None:
        raise ValidationFailed(Bilingual(f"用户 {username} 不存在", f"user {username!r} does not exist"),
                               [FieldError("username", Bilingual("用户不存在", "no such user"))])
    with db.command() as conn:
        task = _open_task(conn, principal, task_id)
        if task.group_name not in target.groups:
            raise ValidationFailed(Bilingual(f"{target.username} 不是 {task.group_name} 组成员",
                                             f"{target.username} is not a member of group {task.group_name}"),
                                   [FieldError("username", Bilingual(f"不是 {task.group_name} 组成员",
                                                                     f"not a member of {task.group_name}"))])
        _held_unless(queries.assign(conn, task.id, username), task)
        return _assigned(conn, principal, task, username, "task.assigned")


def _open_task(conn: Connection, principal: Principal, task_id: str) -> Any:
    task = _load(conn, principal, task_id)
    if task.state != TaskState.OPEN:
        raise TaskNotOpen(f"task {task_id} is {task.state}")
    return task


def _held_unless(assigned: bool, task: Any) -> None:
    if not assigned:
        raise TaskHeldByOther(f"task {task.id} is held by {task.assignee or 'nobody'}")


def _assigned(conn: Connection, principal: Principal, task: Any, assignee: str | None,
              action: str) -> TaskItem:
    audit.record(conn, actor=principal.username, action=action, case_id=task.case_id,
                 instance_id=task.instance_id, task_id=task.id,
                 detail={"task": task.bpmn_id, "title": task.title, "assignee": assignee, "previous": task.assignee})
    item = present.task_item(task, task.case_no)
    item["assignee"] = assignee
    return item


def complete(principal: Principal, task_id: str, data: Any) -> dict[str, Any]:
    """Validate `data` against the task's form, complete the task and advance the case, in one transaction.

    A group member may complete an unclaimed task: completing claims it. A task held by someone else
    is theirs to finish (409). When the process fails inside the engine on the way (an expression that
    raises, a history too deep for the engine, a state that does not load), nothing of the step is kept: the
    failure goes on the case's timeline for the designers and is an incident for the operators."""
    try:
        return _complete(principal, task_id, data)
    except EngineFailure as exc:
        _record_failure(principal, task_id, exc)
        raise


def _record_failure(principal: Principal, task_id: str, failure: EngineFailure) -> None:
    """After the rollback, in a transaction of its own: the failure on the case's timeline, and the incident."""
    with incidents.recording(failure, f"completing task {task_id}") as conn:
        task = queries.task_by_id(conn, task_id)
        if task is None:  # (not a task of ours: nothing failed in a case)
            return
        audit.record(conn, actor=principal.username, action="task.failed", case_id=task.case_id,
                     instance_id=task.instance_id, task_id=task.id,
                     detail={"task": task.bpmn_id, "title": task.title, "element": failure.element,
                             "error": failure.detail[:2000]})
        incidents.record_step(conn, failure, operation=incidents.COMPLETE, case_id=task.case_id,
                              instance_id=task.instance_id, task_id=task.id)


def _complete(principal: Principal, task_id: str, data: Any) -> dict[str, Any]:
    with db.command() as conn:
        # One statement reads the task and locks its instance. Then re-read the task: a racing completion
        # is then either fully visible (the task is no longer open: 409) or has not started. SQLite
        # transactions here begin IMMEDIATE, holding the database's write lock already, so the first
        # read is current there.
        task = queries.lock_task_for_completion(conn, task_id)
        if task is None or not policy.can_see_task(principal, task):
            raise NotFound(f"task {task_id} does not exist")
        live = instances.locked(conn, task.instance_id, task.instance_version, task.instance_definition_id)
        if db.dialect != "sqlite":
            task = _load(conn, principal, task_id)
        if task.state != TaskState.OPEN:
            raise TaskNotOpen(f"task {task_id} is {task.state}")
        if task.assignee not in (None, principal.username):
            raise TaskHeldByOther(f"task {task_id} is held by {task.assignee}")
        if not policy.is_member(principal, task):
            raise Forbidden("only members of the task's group may complete it")
        submitted = data if isinstance(data, dict) else None
        context = runner.task_data(live.workflow, task_id)
        if task.form_key:
            form = definitions.form_of(conn, live.definition, task.form_key)
            errors = form.validate(data, context, clock.today)
            if errors:
                raise FormInvalid(f"the {task.title} form has errors", errors)
        elif submitted:
            raise FormInvalid("this task takes no form data")
        effect = runner.task_property(live.workflow, task_id, "onComplete")
        watched = context.get("overdue") if effect else None
        runner.complete_task(live.workflow, task_id, submitted or {})
        now = clock.now()  # the step's one instant, on its rows and its records
        instances.save(conn, live, now)
        completed = audit.entry(actor=principal.username, action="task.completed", case_id=task.case_id,
                                instance_id=live.id, task_id=task.id, at=now,
                                detail={"task": task.bpmn_id, "title": task.title, "data": submitted or {}})
        outcome = projection.sync(conn, live, task.case_id, actor=principal.username,
                                  completed_task_id=task_id, entries=[completed], case_no=task.case_no, now=now,
                                  record=False)
        entries = outcome.unrecorded
        if effect == "supervision":
            entries += oversight.apply_supervision_task(conn, principal, task.case_id, submitted or {}, watched)
        # Last: appending locks the case's audit chain until the commit (kernel/audit.py, record last), and
        # listing the watched node above locks its task row.
        audit.record_many(conn, entries)
        return {"case": outcome.case, "next_tasks": outcome.open_tasks}
