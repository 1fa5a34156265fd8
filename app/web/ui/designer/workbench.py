"""The designer workbench: drafts edited in the browser (bpmn-js, dmn-js, the form editor), saved on the
server, validated and deployed. The page's script talks to the JSON views below with the session and the
CSRF header; their errors come back as {"detail", "errors"} in the page's language, never as a trace."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import flash, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import ConcordError, FieldError, ProcessInvalid
from app.services.designer import drafts as draft_service
from app.services.designer import sources as definition_sources
from app.states import CaseStatus
from app.web.security import EDITOR_POLICY
from app.web.ui.blueprint import bp
from app.web.ui.formmodel import build
from app.web.ui.i18n import current_language, localise, procedure_label
from app.web.ui.support import login_required, principal, roles_required

F = TypeVar("F", bound=Callable[..., Any])
PROCEDURES = ("mediation", "judicial_confirmation", "arbitration", "reconsideration", "adjudication", "litigation",
              "petition", "complaint")


def _json_view(view: F) -> F:
    """Domain errors of the workbench's JSON views as JSON the script shows, in the page's language."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ProcessInvalid as exc:
            return jsonify({"detail": localise(exc.detail), "errors": _problems(exc.problems)}), exc.status
        except ConcordError as exc:
            errors = [{"field": e.field, "message": localise(e.message)} for e in getattr(exc, "errors", [])
                      if isinstance(e, FieldError)]
            return jsonify({"detail": localise(exc.detail), "errors": errors}), exc.status
    return wrapper  # type: ignore[return-value]


def _problems(items: list[Any]) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "element_id": p.element_id, "message": localise(p.message)}
            for p in items]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _revision(body: dict[str, Any]) -> int | None:
    value = body.get("revision")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@bp.post("/designer/drafts")
@login_required
@roles_required("designer")
def start_draft() -> ResponseReturnValue:
    form = request.form
    try:
        if form.get("new_key"):
            draft = draft_service.create_draft(principal(), new_key=form["new_key"].strip(),
                                               new_name=form.get("new_name", "").strip() or None)
        else:
            version = form.get("version", type=int)
            draft = draft_service.create_draft(principal(), process_key=form.get("process_key", ""), version=version)
    except ConcordError as exc:
        errors = getattr(exc, "errors", None)
        flash(localise(errors[0].message if errors else exc.detail), "error")
        return redirect(url_for("ui.designer"))
    return redirect(url_for("ui.workbench", draft_id=draft["id"]))


@bp.post("/designer/drafts/<int:draft_id>/discard")
@login_required
@roles_required("designer")
def discard_draft(draft_id: int) -> ResponseReturnValue:
    draft_service.discard(principal(), draft_id)
    flash(gettext("The draft was discarded."), "success")
    return redirect(url_for("ui.designer"))


@bp.get("/designer/drafts/<int:draft_id>")
@login_required
@roles_required("designer")
def workbench(draft_id: int) -> ResponseReturnValue:
    draft = draft_service.get_draft(principal(), draft_id)
    english = current_language() == "en"
    context = {
        "draft": {key: draft[key] for key in ("id", "title", "revision", "based_on")},
        "urls": {"data": url_for("ui.workbench_data", draft_id=draft_id),
                 "save": url_for("ui.workbench_save", draft_id=draft_id, name="__name__"),
                 "validate": url_for("ui.workbench_validate", draft_id=draft_id),
                 "deploy": url_for("ui.workbench_deploy", draft_id=draft_id),
                 "check": url_for("ui.workbench_check"), "preview": url_for("ui.workbench_preview"),
                 "designer": url_for("ui.designer")},
        "language": current_language(),
        "groups": definition_sources.group_choices(english),
        "statuses": [{"code": status.value, "label": _status_label(status.value)} for status in CaseStatus],
        "procedures": [{"code": code, "label": procedure_label(code)} for code in PROCEDURES],
    }
    page = make_response(render_template("designer/workbench.html", draft=draft, context=context))
    page.headers["Content-Security-Policy"] = EDITOR_POLICY
    return page


def _status_label(code: str) -> str:
    return {"registered": gettext("registered"), "dispatched": gettext("dispatched"), "handling": gettext("handling"),
            "in_channel": gettext("in a legal channel"), "feedback": gettext("feedback visit"),
            "closed": gettext("closed")}.get(code, code)


@bp.get("/designer/drafts/<int:draft_id>/data")
@login_required
@roles_required("designer")
@_json_view
def workbench_data(draft_id: int) -> ResponseReturnValue:
    return jsonify(draft_service.get_draft(principal(), draft_id))


@bp.post("/designer/drafts/<int:draft_id>/files/<name>")
@login_required
@roles_required("designer")
@_json_view
def workbench_save(draft_id: int, name: str) -> ResponseReturnValue:
    body = _body()
    text = body.get("text")
    if not isinstance(text, str):
        return jsonify({"detail": gettext("Nothing to save."), "errors": []}), 422
    if body.get("delete"):
        return jsonify(draft_service.delete_file(principal(), draft_id, name, _revision(body)))
    return jsonify(draft_service.put_file(principal(), draft_id, name, text, _revision(body)))


@bp.post("/designer/drafts/<int:draft_id>/validate")
@login_required
@roles_required("designer")
@_json_view
def workbench_validate(draft_id: int) -> ResponseReturnValue:
    report = draft_service.validate(principal(), draft_id)
    return jsonify({"valid": report.valid, "errors": _problems(report.errors), "warnings": _problems(report.warnings)})


@bp.post("/designer/drafts/<int:draft_id>/deploy")
@login_required
@roles_required("designer")
@_json_view
def workbench_deploy(draft_id: int) -> ResponseReturnValue:
    deployed, created = draft_service.deploy(principal(), draft_id, _revision(_body()))
    names = ", ".join(f"{d['name']} v{d['version']}" for d in deployed)
    message = gettext("Deployed: %(names)s", names=names) if created else \
        gettext("These files were already deployed: %(names)s", names=names)
    flash(message, "success")
    return jsonify({"definitions": deployed, "created": created, "message": message})


@bp.post("/designer/check")
@login_required
@roles_required("designer")
@_json_view
def workbench_check() -> ResponseReturnValue:
    body = _body()
    result = draft_service.check_text(principal(), str(body.get("text", "")), str(body.get("kind", "")))
    if result["message"]:
        result["message"] = localise(result["message"])
    return jsonify(result)


@bp.post("/designer/forms/preview")
@login_required
@roles_required("designer")
@_json_view
def workbench_preview() -> ResponseReturnValue:
    """The form as officers will see it, drawn by the same renderer as the task page."""
    body = _body()
    schema, ui = body.get("schema"), body.get("ui") or {}
    problems = draft_service.form_problems(principal(), schema, ui)
    if problems or not isinstance(schema, dict):
        return jsonify({"html": None, "problems": problems})
    fields = build(schema, ui, {}, {})
    return jsonify({"html": render_template("designer/_preview.html", fields=fields), "problems": []})
