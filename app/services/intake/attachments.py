"""Files attached to a case: mediation agreements, photos, court documents.

A file is judged by its content, never by its name or the type the browser declared: a page renamed
.pdf is not a PDF. The bytes are kept in the attachment directory (CONCORD_ATTACHMENT_DIR) under their
SHA-256, written to a temporary file and renamed into place, so a reader never sees half a file and the
user's file name never becomes a path. The database row and the audit entry (with the SHA-256, on the
case's timeline) are one transaction; a file stored for a transaction that then failed stays behind
unreferenced, harmless under its hash (the same bytes uploaded again reuse it).
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import Bilingual, NotFound, PayloadTooLarge, UnsupportedMediaType
from app.models import Attachment, Case
from app.runtime import settings
from app.services.kernel import attachments as listed
from app.services.kernel import audit, policy
from app.services.kernel.principals import Principal

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SIGNATURES = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
# An Office document is a zip archive; what it holds says which kind (its entries are listed, not extracted).
_OFFICE_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX))
_EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", DOCX: ".docx", XLSX: ".xlsx"}
MAX_NAME = 200
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class AttachedFile:
    name: str
    content: bytes
    media_type: str


def add(principal: Principal, case_id: int, stream: IO[bytes], filename: str | None) -> dict[str, Any]:
    """Attach the file read from `stream` to the case. NotFound for a case the caller may not see,
    PayloadTooLarge beyond CONCORD_MAX_ATTACHMENT_BYTES, UnsupportedMediaType for anything but PDF,
    JPEG, PNG, DOCX and XLSX."""
    with db.transaction() as session:
        _visible_case(session, principal, case_id)
        sha256, size, media_type = _store(stream)
        now = clock.now()
        row = Attachment(case_id=case_id, name=display_name(filename, media_type), size=size,
                         media_type=media_type, sha256=sha256, uploaded_by=principal.username, uploaded_at=now)
        session.add(row)
        session.flush()
        audit.record(session, actor=principal.username, action="case.attachment_added", case_id=case_id, at=now,
                     detail={"attachment_id": row.id, "name": row.name, "size": size, "sha256": sha256,
                             "media_type": media_type})
        return listed.item(row)


def listing(principal: Principal, case_id: int) -> list[dict[str, Any]]:
    with db.transaction() as session:
        _visible_case(session, principal, case_id)
        return listed.of_case(session, case_id)


def content(principal: Principal, case_id: int, attachment_id: int) -> AttachedFile:
    """The attached file's bytes, for someone who may see the case (NotFound otherwise)."""
    with db.transaction() as session:
        _visible_case(session, principal, case_id)
        row = session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                      Attachment.case_id == case_id))
        if row is None:
            raise NotFound(f"case {case_id} has no attachment {attachment_id}")
        name, media_type, sha256 = row.name, row.media_type, row.sha256
    try:
        data = _path_of(sha256).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"the file of attachment {attachment_id} is missing from the attachment directory") from None
    return AttachedFile(name=name, content=data, media_type=media_type)


def _visible_case(session: Session, principal: Principal, case_id: int) -> None:
    if session.scalar(select(Case.id).where(Case.id == case_id, policy.visible_cases(principal))) is None:
        raise NotFound(f"case {case_id} does not exist")


def display_name(filename: str | None, media_type: str) -> str:
    """The name the page shows: the last part of what the browser sent, without control characters or
    runs of blanks, at most MAX_NAME characters with its extension kept; a fitting default when empty."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"\s+", " ", "".join(ch for ch in name if ch.isprintable() or ch.isspace())).strip(" .")
    if not name:
        return "attachment" + _EXTENSIONS[media_type]
    stem, dot, extension = name.rpartition(".")
    if dot and 0 < len(extension) <= 10 and len(name) > MAX_NAME:
        return stem[:MAX_NAME - len(extension) - 1] + "." + extension
    return name[:MAX_NAME]


def _directory() -> Path:
    return Path(settings.get("ATTACHMENT_DIR") or "instance/attachments")


def _path_of(sha256: str) -> Path:
    return _directory() / sha256[:2] / sha256


def _store(stream: IO[bytes]) -> tuple[str, int, str]:
    """Copy the upload into the directory while hashing it; (sha256, size, media type). The temporary
    file is removed whatever is refused."""
    limit = int(settings.get("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(Bilingual(f"附件不能超过 {_megabytes(limit)}",
                                                    f"an attachment may be at most {_megabytes(limit)}"))
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        media_type = _media_type(temporary)
        sha256 = digest.hexdigest()
        target = _path_of(sha256)
        target.parent.mkdir(exist_ok=True)
        os.replace(temporary, target)
        return sha256, size, media_type
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"


def _media_type(path: str) -> str:
    """What the file is, by its first bytes (and for a zip archive, by the entries it lists)."""
    with open(path, "rb") as file:
        head = file.read(8)
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            names = set()
        for part, media_type in _OFFICE_PARTS:
            if part in names:
                return media_type
    raise UnsupportedMediaType(Bilingual(
        "只能上传 PDF、JPEG、PNG 图片、Word（DOCX）或 Excel（XLSX）文件；按文件内容判断，与文件名无关",
        "only PDF, JPEG, PNG, Word (DOCX) and Excel (XLSX) files may be attached; a file is judged by its "
        "content, not its name"))
