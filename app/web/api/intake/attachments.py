"""Files attached to a case (mediation agreements, photos, court documents)."""
from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import BadRequest
from app.services.intake import attachments as attachment_service
from app.web.api.blueprint import bp
from app.web.api.schemas import array_of, ref
from app.web.api.support import authenticated, created, doc, principal
from app.web.downloads import attachment
from app.web.routing import body_limit

_MEDIA = ("application/pdf", "image/jpeg", "image/png", attachment_service.DOCX, attachment_service.XLSX)


@bp.post("/cases/<int:case_id>/attachments")
@body_limit("MAX_ATTACHMENT_BYTES")
@authenticated
@doc("Attach a file to a case (PDF, JPEG, PNG, DOCX, XLSX, judged by content)", tag="cases",
     body="AttachmentUpload", answer={201: ref("Attachment")},
     responses={201: "Attached; the timeline records its name, size and SHA-256",
                404: "Unknown or invisible case",
                413: "The file is larger than CONCORD_MAX_ATTACHMENT_BYTES",
                415: "The file's content is not PDF, JPEG, PNG, DOCX or XLSX"})
def add_attachment(case_id: int) -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the file as multipart field 'file'")
    return created(attachment_service.add(principal(), case_id, upload.stream, upload.filename))


@bp.get("/cases/<int:case_id>/attachments")
@authenticated
@doc("The files attached to a case, oldest first", tag="cases", answer=array_of("Attachment"),
     responses={200: "The attachments", 404: "Unknown or invisible case"})
def list_attachments(case_id: int) -> ResponseReturnValue:
    return jsonify(attachment_service.listing(principal(), case_id))


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@authenticated
@doc("An attached file's bytes, as a download in its stored media type", tag="cases", download=True, media=_MEDIA,
     answer={}, responses={200: "The file", 404: "Unknown or invisible case, or no such attachment of it"})
def get_attachment(case_id: int, attachment_id: int) -> ResponseReturnValue:
    return attachment(attachment_service.content(principal(), case_id, attachment_id))
