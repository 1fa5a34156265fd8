from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class PossibleDuplicate(Base):
    """A flag raised at intake: `case_id` shares an applicant's phone or ID number and the category with
    the earlier `earlier_case_id` (received within the look-back window). Shown, never blocking."""

    __tablename__ = "possible_duplicates"
    __table_args__ = (UniqueConstraint("case_id", "earlier_case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    earlier_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    matched_on: Mapped[str] = mapped_column(String(16))  # id_number (preferred when both match) or phone
    flagged_at: Mapped[datetime]
