"""The officer's inbox and task pages: claim, fill the task's form, complete."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import FormInvalid, TaskHeldByOther, TaskNotOpen, ValidationFailed
from app.services.inbox import drafts as draft_service
from app.services.inbox import tasks as task_service
from app.services.kernel import notifications
from app.services.kernel.shapes import TaskItem
from app.states import TaskState
from app.web.ui.blueprint import bp
from app.web.ui.filters import chosen
from app.web.ui.formmodel import build, parse
from app.web.ui.i18n import localise
from app.web.ui.support import login_required, principal


@bp.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    scope = request.args.get("scope", "group")
    scope = scope if scope in ("mine", "group", "all") else "group"
    if scope == "all" and not principal().has_role("supervisor"):
        scope = "group"
    filters, restored = chosen("inbox", principal().username)
    if restored:
        keep: dict[str, Any] = {"scope": scope, **filters}
        return redirect(url_for("ui.inbox", **keep))
    # Pages after the first are read by cursor (the links of the pager); a page number still works.
    page = task_service.list_tasks(principal(), scope=scope, cursor=request.args.get("cursor") or None,
                                   page=request.args.get("page", 1, type=int), per_page=50,
                                   q=filters.get("q"), category=filters.get("category"),
                                   case_type=filters.get("case_type"), due_before=filters.get("due_before"),
                                   level=int(filters["level"]) if "level" in filters else None)
    # The urge marks: one look-up of this page's tasks among the urges, beside the inbox's own query.
    urged = notifications.urged_tasks([t["id"] for t in page["items"]])
    return render_template("inbox/inbox.html", page=page, scope=scope, urged=urged, filters=filters)


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> ResponseReturnValue:
    try:
        task_service.claim(principal(), task_id)
        flash(gettext("You have claimed the task."), "success")
    except (TaskNotOpen, TaskHeldByOther) as exc:
        flash(_conflict_message(exc), "error")
        return redirect(url_for("ui.inbox"))
    return redirect(url_for("ui.task", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> ResponseReturnValue:
    try:
        task_service.unclaim(principal(), task_id)
        flash(gettext("The task is back in its group."), "info")
    except (TaskNotOpen, TaskHeldByOther) as exc:
        flash(_conflict_message(exc), "error")
    return redirect(url_for("ui.inbox"))


def _conflict_message(exc: Exception) -> str:
    if isinstance(exc, TaskNotOpen):
        return gettext("This task has been completed meanwhile by someone else; nothing you typed was saved.")
    return gettext("Someone else holds this task: %(detail)s", detail=str(exc))


def _render(task: TaskItem, data: Any, errors: dict[str, str], status: int = 200,
            conflict: str | None = None) -> ResponseReturnValue:
    form = task.get("form") or {}
    fields = build(form.get("schema") or {}, form.get("ui_schema"), data, errors) if form else []
    general = [message for path, message in errors.items() if path == ""]
    return render_template("inbox/task.html", task=task, fields=fields,
                           form_title=(form.get("schema") or {}).get("title"),
                           errors=errors, general=general, conflict=conflict), status


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> ResponseReturnValue:
    item = task_service.get_task(principal(), task_id)
    conflict = None if item["state"] == TaskState.OPEN else gettext("This task is already completed.")
    return _render(item, item.get("data") or {}, {}, conflict=conflict)


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> ResponseReturnValue:
    item = task_service.get_task(principal(), task_id)
    schema = ((item.get("form") or {}).get("schema")) or {}
    data, parse_errors = parse(schema, request.form)
    try:
        # A word typed into a number field fails the schema's type check too: the service refuses the
        # whole submission and reports every other field's problems in the same round trip.
        task_service.complete(principal(), task_id, data)
    except FormInvalid as exc:
        errors = {e.field: localise(e.message) for e in exc.errors}
        errors.update({k: localise(v) for k, v in parse_errors.items()})
        if not errors:
            errors[""] = localise(exc.detail)
        return _render(item, data, errors, 422)
    except (TaskNotOpen, TaskHeldByOther) as exc:
        return _render(item, data, {}, 409, conflict=_conflict_message(exc))
    flash(gettext("%(title)s of case %(case_no)s is done.", title=item["title"], case_no=item["case_no"]), "success")
    return redirect(url_for("ui.inbox"))


@bp.post("/tasks/<task_id>/draft")
@login_required
def save_draft(task_id: str) -> ResponseReturnValue:
    """暂存: the form as typed so far, kept without checking it (a value the form cannot read, a word in a
    number field, is left out; the completion checks everything)."""
    item = task_service.get_task(principal(), task_id)
    data, _unreadable = parse(((item.get("form") or {}).get("schema")) or {}, request.form)
    try:
        draft_service.save(principal(), task_id, data)
    except ValidationFailed as exc:  # (larger than a draft may be)
        return _render(item, data, {"": localise(exc.errors[0].message if exc.errors else exc.detail)}, 422)
    except (TaskNotOpen, TaskHeldByOther) as exc:
        return _render(item, data, {}, 409, conflict=_conflict_message(exc))
    flash(gettext("Draft saved"), "success")
    return redirect(url_for("ui.task", task_id=task_id))
