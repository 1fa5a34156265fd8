"""The designer workbench's drafts: work in progress kept on the server per designer (role designer)."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import ValidationFailed
from app.services.designer import drafts as draft_service
from app.web.api.blueprint import bp
from app.web.api.designer.definitions import _problems
from app.web.api.schemas import array_of, ref
from app.web.api.support import authenticated, created, doc, json_body, no_content, principal

_DESIGNER = {403: "Designers only"}
_FILE_NAME = {"name": {"type": "string", "pattern": r"^[^/\\\x00-\x1f]{1,195}\.(bpmn|dmn|json)$",
                       "description": "a file name ending in .bpmn, .dmn or .json"}}


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """A text field: absent is None (unless required); present, it must be text (null included)."""
    if name not in body and not required:
        return None
    value = body.get(name)
    if not isinstance(value, str):
        raise ValidationFailed.of_field(name, f"{name} 须为文本", f"{name} must be a string")
    return value


def _int(body: dict[str, Any], name: str) -> int | None:
    if name not in body:
        return None
    value = body.get(name)
    if isinstance(value, float) and value.is_integer():  # 3.0 is an integer to JSON
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed.of_field(name, f"{name} 须为正整数", f"{name} must be a whole number from 1")
    return value


def _revision() -> int | None:
    """The revision the editor loaded, from If-Match (a number) or ?revision=; none: last writer wins."""
    raw = request.headers.get("If-Match", request.args.get("revision", "")).strip('"W/ ')
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed.of_field("revision", "revision 须为整数", "revision must be an integer")
    return int(raw)


@bp.get("/designer/drafts")
@authenticated
@doc("My drafts (work in progress in the workbench), newest first", tag="designer-workbench",
     answer=array_of("DraftSummary"), responses={200: "The drafts", **_DESIGNER})
def list_drafts() -> ResponseReturnValue:
    return jsonify(draft_service.list_drafts(principal()))


@bp.post("/designer/drafts")
@authenticated
@doc("Start a draft from a deployed version, or from the template of a new case type", tag="designer-workbench",
     body="NewDraft", answer=ref("Draft"),
     responses={201: "The draft with its files", 404: "No such deployed version", 422: "Neither or both of "
                "process_key and new_key, or a key not matching ^[a-z][a-z0-9_]{1,39}$", **_DESIGNER})
def create_draft() -> ResponseReturnValue:
    body = json_body()
    return created(draft_service.create_draft(
        principal(), title=_text(body, "title"), process_key=_text(body, "process_key"),
        version=_int(body, "version"), new_key=_text(body, "new_key"), new_name=_text(body, "new_name")))


@bp.get("/designer/drafts/<int:draft_id>")
@authenticated
@doc("A draft with its files", tag="designer-workbench", answer=ref("Draft"),
     responses={200: "The draft", 404: "Not one of my drafts", **_DESIGNER})
def get_draft(draft_id: int) -> ResponseReturnValue:
    return jsonify(draft_service.get_draft(principal(), draft_id))


@bp.delete("/designer/drafts/<int:draft_id>")
@authenticated
@doc("Discard a draft", tag="designer-workbench", responses={204: "Discarded", 404: "Not one of my drafts",
                                                             422: "A malformed revision", **_DESIGNER})
def discard_draft(draft_id: int) -> ResponseReturnValue:
    draft_service.discard(principal(), draft_id)
    return no_content()


@bp.put("/designer/drafts/<int:draft_id>/files/<name>")
@authenticated
@doc("Save one file of a draft (If-Match: the revision the editor loaded)", tag="designer-workbench",
     body="DraftFile", answer=ref("DraftSummary"), query=("revision",), path=_FILE_NAME,
     responses={200: "Saved; the answer carries the new revision", 404: "Not one of my drafts",
                409: "The draft changed since that revision", 422: "A name not ending in .bpmn, .dmn or .json, "
                "or a file too large", **_DESIGNER})
def put_draft_file(draft_id: int, name: str) -> ResponseReturnValue:
    text = _text(json_body(), "text", required=True)
    assert text is not None
    return jsonify(draft_service.put_file(principal(), draft_id, name, text, _revision()))


@bp.delete("/designer/drafts/<int:draft_id>/files/<name>")
@authenticated
@doc("Remove one file from a draft", tag="designer-workbench", answer=ref("DraftSummary"), query=("revision",),
     path=_FILE_NAME,
     responses={200: "Removed", 404: "Not one of my drafts, or no such file", 409: "The draft changed since "
                "that revision", 422: "A malformed revision", **_DESIGNER})
def delete_draft_file(draft_id: int, name: str) -> ResponseReturnValue:
    return jsonify(draft_service.delete_file(principal(), draft_id, name, _revision()))


@bp.post("/designer/drafts/<int:draft_id>/validate")
@authenticated
@doc("Validate a draft's files as a deployment would", tag="designer-workbench", answer=ref("ValidationReport"),
     responses={200: "The report, problems with file, line and element", 404: "Not one of my drafts",
                **_DESIGNER})
def validate_draft(draft_id: int) -> ResponseReturnValue:
    report = draft_service.validate(principal(), draft_id)
    return jsonify({"valid": report.valid, "errors": _problems(report.errors), "warnings": _problems(report.warnings)})


@bp.post("/designer/drafts/<int:draft_id>/deploy")
@authenticated
@doc("Deploy a draft (If-Match: its revision); the draft is removed once deployed", tag="designer-workbench",
     answer=ref("Deployed"), query=("revision",),
     responses={201: "Deployed", 200: "Identical files were already deployed", 404: "Not one of my drafts",
                409: "The draft changed since that revision", 422: "Invalid files (process-invalid)", **_DESIGNER})
def deploy_draft(draft_id: int) -> ResponseReturnValue:
    deployed, is_new = draft_service.deploy(principal(), draft_id, _revision())
    return jsonify({"definitions": deployed}), 201 if is_new else 200


@bp.post("/designer/check")
@authenticated
@doc("Check a script or condition as the engine would parse it", tag="designer-workbench", body="TextCheck",
     answer=ref("TextChecked"), responses={200: "ok, or the reason it would be refused",
                                           422: "text missing, or kind not script or expression", **_DESIGNER})
def check_text() -> ResponseReturnValue:
    body = json_body()
    text = _text(body, "text", required=True)
    kind = _text(body, "kind", required=True)
    assert text is not None and kind is not None
    return jsonify(draft_service.check_text(principal(), text, kind))
