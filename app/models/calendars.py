from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class CalendarYear(Base):
    """One year's public holidays and make-up working days, as imported by an administrator."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(Text)
    holidays: Mapped[list[str]]  # ISO dates
    make_up_workdays: Mapped[list[str]]  # ISO dates
    content: Mapped[str] = mapped_column(Text)  # the imported file, verbatim
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime]
