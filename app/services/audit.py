"""The append-only audit log: every state change writes its record in the same transaction."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import AuditEntry


def record(session: Session, *, actor: str, action: str, case_id: int | None = None,
           instance_id: int | None = None, task_id: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    session.add(AuditEntry(at=clock.now(), actor=actor, action=action, case_id=case_id,
                           instance_id=instance_id, task_id=task_id, detail=detail or {}))


def case_timeline(session: Session, case_id: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)))
