"""Registering a case at the window, the case page, and the case search."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import FormInvalid, NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from app.services.designer import diagrams as diagram_service
from app.services.intake import attachments as attachment_service
from app.services.intake import cases as case_service
from app.services.intake import comments as comment_service
from app.web.downloads import attachment
from app.web.routing import body_limit
from app.web.ui.blueprint import bp
from app.web.ui.formmodel import Field, build, parse
from app.web.ui.i18n import localise
from app.web.ui.support import login_required, principal, roles_required


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
@roles_required("intake")
def register() -> ResponseReturnValue:
    """The case type chooser (every deployed case type, by name) and the chosen type's start form, drawn by
    the form renderer; `?case_type=` keeps the choice."""
    case_types = case_service.list_case_types()
    chosen = next((t for t in case_types if t["key"] == request.args.get("case_type")), None)
    if chosen is None:
        if request.args.get("case_type"):
            flash(gettext("There is no case type %(key)s; choose one of the list.",
                          key=request.args["case_type"][:64]), "error")
        chosen = case_types[0]  # the default type comes first
    form = chosen["form"]
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data, parse_errors = parse(form["schema"], request.form)
        try:
            case, is_new = case_service.register(principal(), {**data, "case_type": chosen["key"]})
        except ValidationFailed as exc:
            problems = exc.errors if isinstance(exc, FormInvalid) else []
            errors = {e.field: localise(e.message) for e in problems}
            errors.update({k: localise(v) for k, v in parse_errors.items()})
            if not errors:
                errors[""] = localise(exc.detail)
            status = 422
        else:
            message = (gettext("Case %(case_no)s is registered.", case_no=case["case_no"]) if is_new else
                       gettext("This work order was registered before as %(case_no)s.", case_no=case["case_no"]))
            flash(message, "success")
            return redirect(url_for("ui.case", case_id=case["id"]))
    fields = build(form["schema"], form["ui_schema"], data, errors)
    general = [message for path, message in errors.items() if path == "" or path not in _names(fields)]
    return render_template("intake/register.html", fields=fields, errors=errors, general=general,
                           form_title=form["schema"].get("title"), case_types=case_types,
                           chosen=chosen["key"]), status


def _names(fields: list[Field]) -> set[str]:
    names: set[str] = set()
    for field in fields:
        names.add(field.name)
        names |= _names(field.children)
        for row in field.rows:
            names |= _names(row)
    return names


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int) -> ResponseReturnValue:
    detail = case_service.get_case(principal(), case_id)
    try:
        diagram = diagram_service.case_diagram(principal(), case_id, id_prefix="case-diagram",
                                               stylesheet=False)
    except NotFound:  # a case must still show when its diagram cannot be drawn
        diagram = None
    try:  # the codes of its own type's start form (a type no longer deployed as one: the default's)
        form = case_service.registration_form(detail["case_type"])
    except ValidationFailed:
        form = case_service.registration_form()
    record = case_service.case_record(principal(), case_id)
    labels = _enum_labels(form["schema"])
    for field, names in record["labels"].items():  # the case's own process version names its codes last
        labels.setdefault(field, {}).update(names)
    return render_template("intake/case.html", case=detail, diagram=diagram, labels=labels,
                           history=record["history"],
                           max_attachment_size=f"{current_app.config['MAX_ATTACHMENT_BYTES'] / 2**20:g} MB")


@bp.post("/cases/<int:case_id>/comments")
@login_required
def comment(case_id: int) -> ResponseReturnValue:
    try:
        comment_service.add(principal(), case_id, request.form.get("text", ""))
        flash(gettext("Your comment is on the timeline."), "success")
    except ValidationFailed as exc:
        flash(localise(exc.errors[0].message if exc.errors else exc.detail), "error")
    return redirect(url_for("ui.case", case_id=case_id, _anchor="comment"))


def _enum_labels(schema: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Display names of coded fields (source, category, urgency...) from the form's x-enumNames."""
    labels: dict[str, dict[str, str]] = {}
    for name, spec in schema.get("properties", {}).items():
        if isinstance(spec, dict) and "enum" in spec and "x-enumNames" in spec:
            labels[name] = dict(zip(spec["enum"], spec["x-enumNames"], strict=False))
    return labels


@bp.get("/cases")
@login_required
def search() -> ResponseReturnValue:
    args = request.args
    overdue = {"true": True, "false": False}.get(args.get("overdue", ""))
    page = case_service.list_cases(principal(), q=args.get("q") or None, status=args.get("status") or None,
                                   category=args.get("category") or None, overdue=overdue,
                                   case_type=args.get("case_type") or None,
                                   page=args.get("page", 1, type=int), per_page=50)
    return render_template("intake/cases.html", page=page, args=args, case_types=case_service.list_case_types())


@bp.post("/cases/<int:case_id>/attachments")
@body_limit("MAX_ATTACHMENT_BYTES")
@login_required
def attach(case_id: int) -> ResponseReturnValue:
    """The case page's upload form: the file is judged and stored as over the API; back to the case."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(gettext("Choose a file to attach."), "error")
        return redirect(url_for("ui.case", case_id=case_id))
    try:
        attached = attachment_service.add(principal(), case_id, upload.stream, upload.filename)
    except (UnsupportedMediaType, PayloadTooLarge) as exc:
        flash(localise(exc.detail), "error")
    else:
        flash(gettext("%(name)s is attached.", name=attached["name"]), "success")
    return redirect(url_for("ui.case", case_id=case_id) + "#attachments")


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def attachment_file(case_id: int, attachment_id: int) -> ResponseReturnValue:
    return attachment(attachment_service.content(principal(), case_id, attachment_id))
