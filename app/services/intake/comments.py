"""Comments on a case: a note anyone who may see the case adds to its timeline.

A comment is an audit entry (`case.commented`, its text in the detail): the timeline is read from the
audit log, and the log's hash chain keeps comments as it keeps every step — never edited, never removed."""
from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import select

from app import clock
from app.database import db
from app.errors import NotFound, ValidationFailed
from app.models import AuditEntry, Case
from app.services.kernel import audit, policy
from app.services.kernel.present import iso
from app.services.kernel.principals import Principal

MAX_COMMENT = 2000
ACTION = "case.commented"


class Comment(TypedDict):
    id: int  # the audit entry's id
    case_id: int
    text: str
    author: str
    created_at: str | None


def add(principal: Principal, case_id: int, text: Any) -> Comment:
    """Add a comment to a case the caller may see (404 otherwise): 1 to MAX_COMMENT characters, not only
    spaces; kept as typed but for the spaces around it."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed.of_field("text", "请填写评论内容", "a comment needs some text")
    if len(text) > MAX_COMMENT:  # (as sent, spaces included: what the API document's maxLength says)
        raise ValidationFailed.of_field("text", f"评论最多 {MAX_COMMENT} 字", f"at most {MAX_COMMENT} characters")
    text = text.strip()
    with db.command() as conn:
        if conn.scalar(select(Case.id).where(Case.id == case_id, policy.visible_cases(principal))) is None:
            raise NotFound(f"case {case_id} does not exist")
        now = clock.now()
        audit.record(conn, actor=principal.username, action=ACTION, case_id=case_id, at=now, detail={"text": text})
        # This transaction holds the case chain's head until it commits: the chain's last comment is this one.
        entry_id = conn.scalar(select(AuditEntry.id).where(AuditEntry.case_id == case_id, AuditEntry.action == ACTION)
                               .order_by(AuditEntry.seq.desc()).limit(1))
        assert entry_id is not None
    return {"id": entry_id, "case_id": case_id, "text": text, "author": principal.username,
            "created_at": iso(now)}
