from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    roles: Mapped[list[str]]
    groups: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)  # after an administrator's reset
    created_at: Mapped[datetime]


class LoginSession(Base):
    """One login: a token names its session, and logging out ends it (the token is refused from then
    on, before it expires)."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, carried in the signed token
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
