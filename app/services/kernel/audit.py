"""The append-only audit log: every state change writes its records in the same transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app import clock
from app.models import AuditEntry
from app.services.kernel import queries


def entry(*, actor: str, action: str, case_id: int | None = None, instance_id: int | None = None,
          task_id: str | None = None, detail: dict[str, Any] | None = None,
          at: datetime | None = None) -> dict[str, Any]:
    """An audit record; `at` is the instant of the step it belongs to (default: now)."""
    return {"at": at or clock.now(), "actor": actor, "action": action, "case_id": case_id,
            "instance_id": instance_id, "task_id": task_id, "detail": detail or {}}


def record(conn: Session | Connection, **fields: Any) -> None:
    queries.insert_audit(conn, [entry(**fields)])


def record_many(conn: Session | Connection, entries: list[dict[str, Any]]) -> None:
    if entries:
        queries.insert_audit(conn, entries)


def case_timeline(session: Session, case_id: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)))
