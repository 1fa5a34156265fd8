"""Supervisors: the escalation board, urging, listing for supervision and reassigning tasks."""
from __future__ import annotations

from collections import Counter
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import Conflict, ValidationFailed
from app.services.escalation import supervision as supervision_service
from app.services.inbox import tasks as task_service
from app.services.kernel import principals
from app.web.ui.blueprint import bp
from app.web.ui.filters import chosen
from app.web.ui.i18n import explain
from app.web.ui.support import login_required, principal, roles_required

AGE_BUCKETS = ((86400, "under 1 day"), (3 * 86400, "1–3 days"), (7 * 86400, "3–7 days"), (None, "over 7 days"))


def _bucket(seconds: float | None) -> str:
    for limit, name in AGE_BUCKETS:
        if limit is None or (seconds or 0) < limit:
            return name
    return AGE_BUCKETS[-1][1]


BOARD_FILTERS = ("q", "category", "case_type", "due_before")  # the level and the group are the tabs


@bp.get("/supervision")
@login_required
@roles_required("supervisor")
def board() -> ResponseReturnValue:
    level = request.args.get("level", type=int)
    group = request.args.get("group") or None
    filters, restored = chosen("board", principal().username, BOARD_FILTERS)
    if restored:
        keep: dict[str, Any] = {"level": level, "group": group, **filters}
        return redirect(url_for("ui.board", **keep))
    page = supervision_service.list_escalations(principal(), level=level or None, group=group,
                                                cursor=request.args.get("cursor") or None,
                                                page=request.args.get("page", 1, type=int), per_page=200,
                                                q=filters.get("q"), category=filters.get("category"),
                                                case_type=filters.get("case_type"),
                                                due_before=filters.get("due_before"))
    items = page["items"]
    by_group = Counter(item["group"] for item in items)
    by_age = Counter(_bucket(item.get("overdue_seconds")) for item in items if item["escalation_level"] >= 2)
    members = principals.group_members({item["group"] for item in items if item["group"]})
    return render_template("escalation/board.html", page=page, items=items, level=level, group=group, by_group=by_group,
                           by_age=[(name, by_age.get(name, 0)) for _, name in AGE_BUCKETS], members=members,
                           filters=filters)


def _act(action: str, task_id: str) -> ResponseReturnValue:
    note = request.form.get("note", "").strip()
    try:
        if action == "urge":
            supervision_service.urge(principal(), task_id, note)
            flash(gettext("The handler has been urged."), "success")
        elif action == "list":
            supervision_service.list_for_supervision(principal(), task_id, note)
            flash(gettext("The task is listed for supervision."), "success")
        else:
            task_service.assign(principal(), task_id, request.form.get("username", ""))
            flash(gettext("The task has been reassigned."), "success")
    except (Conflict, ValidationFailed) as exc:
        flash(explain(exc), "error")
    back = request.form.get("back") or ""
    return redirect(back if back.startswith("/supervision") else url_for("ui.board"))


@bp.post("/supervision/tasks/<task_id>/urge")
@login_required
def urge(task_id: str) -> ResponseReturnValue:
    return _act("urge", task_id)


@bp.post("/supervision/tasks/<task_id>/list")
@login_required
def list_task(task_id: str) -> ResponseReturnValue:
    return _act("list", task_id)


@bp.post("/supervision/tasks/<task_id>/assign")
@login_required
def reassign(task_id: str) -> ResponseReturnValue:
    return _act("assign", task_id)
