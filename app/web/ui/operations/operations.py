"""流程运维: the operations console for admins and supervisors, and the operations on the case page."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import Conflict, NotFound, ValidationFailed
from app.services.operations import incidents as incident_service
from app.services.operations import intervention, lifecycle, listing, migration
from app.web.arguments import bool_arg, int_arg
from app.web.ui.blueprint import bp
from app.web.ui.i18n import explain
from app.web.ui.support import login_required, principal, roles_required

REFUSED = (Conflict, NotFound, ValidationFailed)


@bp.get("/operations")
@login_required
@roles_required("supervisor")
def operations() -> ResponseReturnValue:
    args = request.args
    version = args.get("version")
    page = listing.list_instances(
        principal(), process_key=args.get("process_key") or None, version=int_arg("version", 0) if version else None,
        state=args.get("state") or None, waiting_at=args.get("waiting_at") or None, incident=bool_arg("incident"),
        page=int_arg("page", 1), per_page=50)
    return render_template("operations/operations.html", page=page, args=args, states=list(listing.STATES),
                           incidents=incident_service.list_incidents(principal())["items"], report=None)


def _back(default: str) -> ResponseReturnValue:
    back = request.form.get("back") or ""
    return redirect(back if back.startswith("/operations") or back.startswith("/cases/") else default)


def _form_body() -> dict[str, Any]:
    body: dict[str, Any] = {"reason": request.form.get("reason", "")}
    if request.form.get("version", "").isdigit():
        body["version"] = int(request.form["version"])
    return body


@bp.post("/operations/cases/<int:case_id>/<any(cancel, suspend, resume):action>")
@login_required
def operate_on_case(case_id: int, action: str) -> ResponseReturnValue:
    act = {"cancel": lifecycle.cancel, "suspend": lifecycle.suspend, "resume": lifecycle.resume}[action]
    try:
        result = act(principal(), case_id, _form_body())
    except REFUSED as exc:
        flash(explain(exc), "error")
    else:
        done = {"cancel": gettext("Case %(case_no)s is cancelled.", case_no=result["case_no"]),
                "suspend": gettext("Case %(case_no)s is suspended.", case_no=result["case_no"]),
                "resume": gettext("Case %(case_no)s is resumed.", case_no=result["case_no"])}
        flash(done[action], "success")
    return _back(url_for("ui.case", case_id=case_id))


@bp.post("/operations/instances/<int:instance_id>/move")
@login_required
def move(instance_id: int) -> ResponseReturnValue:
    body = {**_form_body(), "from": request.form.get("from", ""), "to": request.form.get("to", "")}
    try:
        result = intervention.move(principal(), instance_id, body)
    except REFUSED as exc:
        flash(explain(exc), "error")
    else:
        flash(gettext("Case %(case_no)s now waits at %(tasks)s.", case_no=result["case"]["case_no"],
                      tasks=", ".join(t["title"] for t in result["next_tasks"]) or "—"), "success")
    return _back(url_for("ui.operations"))


def _mapping(text: str) -> dict[str, str]:
    pairs = [line.partition("=") for line in text.replace("，", ",").replace(",", "\n").splitlines() if line.strip()]
    return {old.strip(): new.strip() for old, _sep, new in pairs}


@bp.post("/operations/migrate")
@login_required
@roles_required("supervisor")
def migrate() -> ResponseReturnValue:
    form = request.form
    body: dict[str, Any] = {"process_key": form.get("process_key", ""), "mapping": _mapping(form.get("mapping", "")),
                            "dry_run": form.get("dry_run") == "on"}
    for name in ("from_version", "to_version"):
        body[name] = int(form[name]) if form.get(name, "").isdigit() else None
    report = None
    try:
        report = migration.migrate(principal(), body)
    except REFUSED as exc:
        flash(explain(exc), "error")
    page = listing.list_instances(principal(), page=1, per_page=50)
    return render_template("operations/operations.html", page=page, args={}, states=list(listing.STATES),
                           incidents=incident_service.list_incidents(principal())["items"], report=report,
                           migration=form)


@bp.post("/operations/incidents/<int:incident_id>/<any(retry, resolve):action>")
@login_required
def incident(incident_id: int, action: str) -> ResponseReturnValue:
    try:
        if action == "retry":
            incident_service.retry(principal(), incident_id)
            flash(gettext("The incident was retried."), "success")
        else:
            incident_service.resolve(principal(), incident_id, _form_body())
            flash(gettext("The incident is resolved."), "success")
    except REFUSED as exc:
        flash(explain(exc), "error")
    return redirect(url_for("ui.operations"))
