from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ReceivedMessage(Base):
    """An external message (a court's decision, an arbitration award) delivered to a case; the same
    document delivered twice is recognised by (case, name, document number) and refused."""

    __tablename__ = "received_messages"
    __table_args__ = (UniqueConstraint("case_id", "name", "document_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    document_no: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    sender: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
