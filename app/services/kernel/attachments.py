"""The files attached to a case as the case page and the task's case panel list them (storing and
downloading them is intake's, app.services.intake.attachments)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Attachment
from app.services.kernel.present import iso


def of_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The case's attachments, oldest first (for a case the caller was found to see)."""
    rows = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
    return [item(row) for row in rows]


def item(row: Attachment) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "size": row.size, "media_type": row.media_type, "sha256": row.sha256,
            "uploaded_by": row.uploaded_by, "uploaded_at": iso(row.uploaded_at)}
