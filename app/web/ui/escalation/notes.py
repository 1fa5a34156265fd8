"""The notifications page: reminders, urges (催办) and listings addressed to me or my groups; read marks."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.services.kernel import notifications
from app.web.ui.blueprint import bp
from app.web.ui.support import login_required, principal


@bp.get("/notifications")
@login_required
def notes() -> ResponseReturnValue:
    page = notifications.list_for(principal(), page=request.args.get("page", 1, type=int), per_page=50)
    return render_template("escalation/notifications.html", page=page)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read_note(notification_id: int) -> ResponseReturnValue:
    note = notifications.mark_read(principal(), notification_id)
    if request.form.get("open") and note["task_id"]:
        return redirect(url_for("ui.task", task_id=note["task_id"]))
    return redirect(url_for("ui.notes"))
