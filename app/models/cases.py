from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


def _registration_time(context: Any) -> datetime:
    """A case inserted without a reception time was received when it was registered."""
    registered: datetime = context.get_current_parameters()["created_at"]
    return registered


class Case(Base):
    """One dispute or request, one number from intake to archive (一案一码)."""

    __tablename__ = "cases"
    # The inbox's search (revision 0013_inbox_scale) reads external_id by prefix: on PostgreSQL through a
    # varchar_pattern_ops index (and case_no through another), titles through a trigram index when pg_trgm
    # could be created; these exist in the migrations only, per database.
    __table_args__ = (UniqueConstraint("source", "external_id"), Index("ix_cases_status", "status"),
                      Index("ix_cases_external_id", "external_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    # The process it was registered as (a case type: a deployed process whose start event names a form).
    case_type: Mapped[str] = mapped_column(String(64), index=True, default="dispute_case")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    request: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    risk_level: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    grid: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(256))
    willing_to_mediate: Mapped[bool | None]
    status: Mapped[str] = mapped_column(String(16))
    procedure: Mapped[str | None] = mapped_column(String(32))
    procedure_since: Mapped[datetime | None]
    handling_group: Mapped[str | None] = mapped_column(String(64))
    complexity: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    satisfied: Mapped[bool | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    process_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)  # registered in Concord
    # Received by the centre: the registration itself, or the source's own reception time for work
    # orders imported from the 12345 / 110 / petition systems. Reports count cases by this instant.
    received_at: Mapped[datetime] = mapped_column(index=True, default=_registration_time)
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    parties: Mapped[list[Party]] = relationship(order_by="Party.position", cascade="all, delete-orphan")


class Party(Base):
    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(128), index=True)  # the inbox's search by name
    role: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    id_number: Mapped[str | None] = mapped_column(String(32), index=True)


class Counter(Base):
    """Named sequences (case numbers per year) that work the same on SQLite and PostgreSQL."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int]
