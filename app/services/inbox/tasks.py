"""The inbox: list, open, claim, hand over and complete human tasks."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.engine import runner
from app.errors import (
    Bilingual,
    Conflict,
    EngineFailure,
    FieldError,
    Forbidden,
    FormInvalid,
    NotFound,
    TaskHeldByOther,
    TaskNotOpen,
    ValidationFailed,
)
from app.models import Case
from app.services.inbox import drafts, panel, queries
from app.services.kernel import (
    audit,
    definitions,
    incidents,
    instances,
    oversight,
    policy,
    present,
    projection,
    tasklist,
)
from app.services.kernel.keyset import CursorPage
from app.services.kernel.principals import Principal, find_principal
from app.services.kernel.shapes import TaskItem
from app.states import InstanceStatus, TaskState

SCOPES = ("mine", "group", "all")


def _load(conn: Session | Connection, principal: Principal, task_id: str) -> Any:
    """The task row; NotFound for unknown ids and for tasks the caller may not see."""
    task = queries.task_by_id(conn, task_id)
    if task is None or not policy.can_see_task(principal, task):
        raise NotFound(f"task {task_id} does not exist")
    return task


def list_tasks(principal: Principal, *, scope: str = "group", overdue: bool | None = None,
               case_no: str | None = None, name: str | None = None, case_type: str | None = None,
               q: str | None = None,
               category: str | None = None, level: int | None = None, due_before: str | None = None,
               cursor: str | None = None, page: int = 1, per_page: int = 50) -> CursorPage:
    """Open tasks in due order (those without a due instant last), with their cases' facts. `q` finds
    cases by number, work-order number, title, and — where the caller may see them — a party's name or
    phone; `level` is exactly that escalation level. A page is read by number or after a cursor."""
    if scope not in SCOPES:
        raise ValidationFailed(f"scope must be one of {', '.join(SCOPES)}",
                               [FieldError("scope", Bilingual("必须是以下之一",
                                                              f"must be one of: {', '.join(SCOPES)}"))])
    if level is not None and level not in (0, 1, 2, 3):
        raise ValidationFailed.of_field("level", "必须是 0、1、2 或 3", "must be 0, 1, 2 or 3")
    if scope == "mine":
        where = tasklist.Scope("assignee", (principal.username,))
    elif scope == "group":
        where = tasklist.groups_scope(principal.groups)
    else:
        policy.overseen_tasks(principal)  # (supervisors only)
        where = tasklist.groups_scope(principal.oversees)
    filters = tasklist.Filters(q=tasklist.parse_q(q), category=category or None, level=level,
                               due_before=tasklist.parse_due_before(due_before), overdue=overdue,
                               case_no=case_no, name=name, case_type=case_type or None)
    with db.transaction() as session:
        return tasklist.page_of(session, principal, where, filters, cursor=cursor, page=page, per_page=per_page,
                                render=lambda row: present.with_case_facts(present.task_item_for(principal, row), row))


def get_task(principal: Principal, task_id: str) -> TaskItem:
    task: Any = None
    try:
        with db.transaction() as session:
            task = _load(session, principal, task_id)
            item = present.task_item_for(principal, task)
            present.with_case_facts(item, session.execute(select(*tasklist.CASE_FACTS)
                                                          .where(Case.id == task.case_id)).one())
            item["form"], item["data"] = None, {}
            if task.form_key:
                workflow, info = instances.read(session, task.instance_id)
                form = definitions.form_of(session, info, task.form_key)
                data = runner.task_data(workflow, task.id)
                item["form"] = {"key": form.key, "schema": form.for_context(data), "ui_schema": form.ui_schema}
                item["data"] = _prefill(form.schema, data) if task.state == TaskState.OPEN else {}
            # A saved draft (暂存) is what the officer typed last: over the suggestions, on an open task only.
            item["draft"] = drafts.of_task(session, task.id) if task.state == TaskState.OPEN else None
            if item["draft"] is not None:
                item["data"] = {**item["data"], **item["draft"].pop("data")}
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
        # One statement reads the task and locks it and its instance: a racing completion is then either
        # fully visible (the task is no longer open: 409) or has not started (PostgreSQL re-reads locked
        # rows after waiting; SQLite transactions here begin IMMEDIATE, holding the write lock already).
        task = queries.lock_task_for_completion(conn, task_id)
        if task is None or not policy.can_see_task(principal, task):
            raise NotFound(f"task {task_id} does not exist")
        live = instances.locked(conn, task.instance_id, task.instance_version, task.instance_definition_id)
        suspended = task.instance_status == InstanceStatus.SUSPENDED  # (read under the instance's lock)
        if task.state != TaskState.OPEN:
            raise TaskNotOpen(f"task {task_id} is {task.state}")
        if suspended:
            raise Conflict(Bilingual("案件已中止，恢复后才能办理", "the case is suspended: resume it before completing "
                                                         "its tasks"))
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
        queries.clear_draft(conn, task_id)
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
