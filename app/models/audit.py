from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

# The chain of the entries that belong to no case (logins, users, deployments, calendars).
SYSTEM_CHAIN = 0


class AuditEntry(Base):
    """Append-only: rows are inserted, never updated or deleted (triggers refuse both, on SQLite and
    PostgreSQL, and TRUNCATE on PostgreSQL). Each row is a link of a hash chain: the entries of one case
    form that case's chain, the entries without a case the system chain. `seq` is the row's place in
    its chain (1, 2, ...), `prev_hash` the `hash` of the row before it (64 zeros for the first), and `hash`
    the SHA-256 of the row's fields and `prev_hash` (app.services.kernel.audit.chain_hash)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_case", "case_id", "seq", unique=True),
        Index("ix_audit_log_system", "seq", unique=True, sqlite_where=text("case_id IS NULL"),
              postgresql_where=text("case_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    instance_id: Mapped[int | None]
    task_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]]
    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last link of each chain (`chain`: the case id, or SYSTEM_CHAIN), moved forward by every append
    under its row lock: it serializes the writers of a chain, and it is what shows that entries were
    removed from a chain's end. Triggers refuse DELETE and any UPDATE that does not move `seq` forward."""

    __tablename__ = "audit_heads"

    chain: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
