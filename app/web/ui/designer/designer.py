"""Designers: deployed definitions and their diagrams, validating and deploying uploads, comparing versions."""
from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import ProcessInvalid
from app.services.designer import deployments as definition_service
from app.services.designer import diagrams as diagram_service
from app.services.designer import drafts as draft_service
from app.services.designer import sources as definition_sources
from app.web.downloads import attachment
from app.web.ui.blueprint import bp
from app.web.ui.support import login_required, principal, roles_required


def _uploads() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for upload in request.files.getlist("files"):
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if name:
            files[name] = upload.read()
    return files


def _definitions() -> list[tuple[str, list[dict[str, Any]]]]:
    rows = definition_service.list_definitions(principal())
    return [(key, list(versions)) for key, versions in groupby(rows, key=lambda row: row["key"])]


@bp.get("/diagram.css")
def diagram_stylesheet() -> ResponseReturnValue:
    """How the diagrams embedded in pages look (they are drawn without a <style> element of their own)."""
    response = Response(diagram_service.stylesheet(), mimetype="text/css")
    response.cache_control.no_cache = True
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/designer")
@login_required
@roles_required("designer")
def designer() -> ResponseReturnValue:
    return render_template("designer/designer.html", definitions=_definitions(), report=None, previews=[],
                           drafts=draft_service.list_drafts(principal()))


@bp.post("/designer/upload")
@login_required
@roles_required("designer")
def upload() -> ResponseReturnValue:
    files = _uploads()
    if not files:
        flash(gettext("Choose one or more .bpmn, .dmn or form .json files."), "error")
        return redirect(url_for("ui.designer"))
    if request.form.get("action") == "workbench":
        # the uploaded files as a draft: fixing them needs no second pick of the same files
        draft = draft_service.create_draft(principal(), files=files)
        return redirect(url_for("ui.workbench", draft_id=draft["id"]))
    report = definition_service.validate(principal(), files)
    if report.valid and request.form.get("action") == "deploy":
        try:
            deployed, is_new = definition_service.deploy(principal(), files)
        except ProcessInvalid as exc:  # valid a moment ago: only a concurrent change gets here
            report.errors, report.valid = exc.problems, False
        else:
            names = ", ".join(f"{d['key']} v{d['version']}" for d in deployed)
            flash(gettext("Deployed %(names)s.", names=names) if is_new else
                  gettext("These files are deployed already (%(names)s).", names=names), "success")
            return redirect(url_for("ui.designer"))
    previews = diagram_service.upload_previews(files, report.errors, stylesheet=False)
    return render_template("designer/designer.html", definitions=_definitions(), report=report, previews=previews,
                           uploaded=sorted(files), drafts=draft_service.list_drafts(principal())), \
        200 if report.valid else 422


@bp.get("/designer/<key>/<int:version>")
@login_required
@roles_required("designer", "supervisor")
def definition(key: str, version: int) -> ResponseReturnValue:
    info = diagram_service.definition_files(principal(), key, version)
    svg = diagram_service.definition_diagram(principal(), key, version, id_prefix="definition", stylesheet=False)
    versions = dict(_definitions()).get(key, [])
    return render_template("designer/definition.html", info=info, svg=svg, versions=versions)


@bp.get("/designer/<key>/<int:version>/files/<name>")
@login_required
@roles_required("designer", "supervisor")
def definition_file(key: str, version: int, name: str) -> ResponseReturnValue:
    return attachment(definition_sources.source_file(principal(), key, version, name))


@bp.get("/designer/<key>/<int:version>/files.zip")
@login_required
@roles_required("designer", "supervisor")
def definition_archive(key: str, version: int) -> ResponseReturnValue:
    return attachment(definition_sources.archive(principal(), key, version))


@bp.get("/designer/<key>/compare")
@login_required
@roles_required("designer", "supervisor")
def compare(key: str) -> ResponseReturnValue:
    versions = dict(_definitions()).get(key, [])
    numbers = sorted(v["version"] for v in versions)
    after = request.args.get("to", type=int) or (numbers[-1] if numbers else 1)
    before = request.args.get("from", type=int) or max([n for n in numbers if n < after] or [after])
    result = diagram_service.compare_versions(principal(), key, before, after, stylesheet=False)
    return render_template("designer/compare.html", result=result, versions=numbers)
