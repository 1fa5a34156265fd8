from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Centre(Base):
    """A comprehensive governance centre (综治中心) of the city → county → township tree."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    created_at: Mapped[datetime]


class Group(Base):
    """A group of officers — a window, a mediation room, a department — that BPMN lanes and
    `candidateGroups` name by its key; it belongs to one centre."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))  # Chinese, shown on every page
    name_en: Mapped[str | None] = mapped_column(String(100))  # for the English pages; the name when absent
    kind: Mapped[str] = mapped_column(String(16))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    created_at: Mapped[datetime]


class IntegrationKey(Base):
    """A machine account of a feed (12345, 110, a court): the key is shown once and kept as its SHA-256."""

    __tablename__ = "integration_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed login, counted per username over a window (several nodes read the same counters)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username", "username", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]
