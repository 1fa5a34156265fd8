"""Users, password hashing and login tokens (the principal they yield lives in the kernel)."""
from __future__ import annotations

import secrets
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import and_, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.database import db
from app.errors import Unauthenticated, ValidationFailed
from app.models import LoginSession, User
from app.runtime import settings
from app.services.kernel import audit
from app.services.kernel.principals import ROLES, Principal, principal_of

# Hashing the password of an unknown user too keeps login time from telling which usernames exist.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


class _ClockSigner(TimestampSigner):
    """Token timestamps from app.clock, so that expiry follows the same time as everything else."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class _TokenSerializer(URLSafeTimedSerializer):
    default_signer = _ClockSigner


def _serializer() -> URLSafeTimedSerializer:
    return _TokenSerializer(settings["SECRET_KEY"], salt="concord-api-token")


def login(username: str, password: str) -> tuple[str, Principal]:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            check_password_hash(_DUMMY_HASH, password)
            raise Unauthenticated("wrong username or password")
        if not check_password_hash(user.password_hash, password):
            raise Unauthenticated("wrong username or password")
        login_id = secrets.token_urlsafe(24)
        session.add(LoginSession(id=login_id, username=user.username, created_at=clock.now()))
        audit.record(session, actor=user.username, action="user.login")
        return _serializer().dumps({"u": user.username, "s": login_id}), principal_of(user)


def _payload(token: str) -> dict[str, Any]:
    try:
        payload = _serializer().loads(token, max_age=settings["TOKEN_TTL_SECONDS"])
    except SignatureExpired as exc:
        raise Unauthenticated("the token has expired; log in again") from exc
    except BadSignature as exc:
        raise Unauthenticated("the token is not valid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
        raise Unauthenticated("the token is from an older version; log in again")
    return payload


def principal_from_token(token: str) -> Principal:
    payload = _payload(token)
    with db.transaction() as session:
        row = session.execute(select(User, LoginSession.ended_at).join(
            LoginSession, and_(LoginSession.username == User.username, LoginSession.id == payload["s"]))
            .where(User.username == payload.get("u"))).one_or_none()
        if row is None:
            raise Unauthenticated("the token is not valid")
        user, ended_at = row
        if ended_at is not None:
            raise Unauthenticated("you have logged out; log in again")
        if not user.active:
            raise Unauthenticated("the account no longer exists or is disabled")
        return principal_of(user)


def logout(token: str) -> None:
    """End the login `token` came from: the token (and any copy of it) is refused from now on. A token
    that is already invalid or expired has nothing left to end."""
    try:
        payload = _payload(token)
    except Unauthenticated:
        return
    with db.transaction() as session:
        login_session = session.get(LoginSession, payload["s"])
        if login_session is not None and login_session.ended_at is None:
            login_session.ended_at = clock.now()
            audit.record(session, actor=login_session.username, action="user.logout")


def upsert_user(username: str, password: str, *, display_name: str, roles: list[str], groups: list[str],
                actor: str = "system") -> None:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValidationFailed(f"unknown roles: {', '.join(unknown)}")
    if len(password) < 8:
        raise ValidationFailed("passwords need at least 8 characters")
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, created_at=clock.now(), active=True)
            session.add(user)
        user.display_name, user.roles, user.groups = display_name, roles, groups
        user.password_hash = generate_password_hash(password, method=settings.get("PASSWORD_HASH_METHOD", "scrypt"))
        audit.record(session, actor=actor, action="user.saved",
                     detail={"username": username, "roles": roles, "groups": groups})
