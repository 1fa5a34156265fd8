"""Logging in and out: passwords, login tokens, integration keys, and the throttle on failed logins
(the principal they yield lives in the kernel)."""
from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import and_, delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.database import db
from app.errors import Bilingual, FieldError, TooManyRequests, Unauthenticated, ValidationFailed
from app.models import IntegrationKey, LoginFailure, LoginSession, User
from app.runtime import settings
from app.services.kernel import audit, revocation
from app.services.kernel.principals import Principal, principal_of

# Hashing the password of an unknown user too keeps login time from telling which usernames exist.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))
KEY_PREFIX = "ck_"  # integration keys are told from login tokens by it
MIN_PASSWORD = 10


class _ClockSigner(TimestampSigner):
    """Token timestamps from app.clock, so that expiry follows the same time as everything else."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class _TokenSerializer(URLSafeTimedSerializer):
    default_signer = _ClockSigner


def _serializer() -> URLSafeTimedSerializer:
    return _TokenSerializer(settings["SECRET_KEY"], salt="concord-api-token")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=settings.get("PASSWORD_HASH_METHOD", "scrypt"))


def check_new_password(username: str, password: Any, field: str = "password") -> str:
    """A password an account may take: at least MIN_PASSWORD characters, not the username."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password needs at least {MIN_PASSWORD} characters", [FieldError(
            field, Bilingual(f"密码至少 {MIN_PASSWORD} 个字符", f"at least {MIN_PASSWORD} characters"))])
    if password.strip().lower() == username.strip().lower():
        raise ValidationFailed("the password may not be the username", [FieldError(
            field, Bilingual("密码不能与用户名相同", "may not be the username"))])
    return password


# Logging in -----------------------------------------------------------------------------------------

def login(username: str, password: str) -> tuple[str, Principal]:
    """A token for the user; Unauthenticated on a wrong password, TooManyRequests after too many
    failures of this username within the window (even with the right password, until it passes)."""
    _refuse_while_throttled(username)
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            check_password_hash(_DUMMY_HASH, password)
            user = None
        elif not check_password_hash(user.password_hash, password):
            user = None
        if user is not None:
            login_id = secrets.token_urlsafe(24)
            session.add(LoginSession(id=login_id, username=user.username, created_at=clock.now()))
            audit.record(session, actor=user.username, action="user.login")
            return _serializer().dumps({"u": user.username, "s": login_id}), principal_of(user)
    _record_failure(username)
    raise Unauthenticated("wrong username or password")


def _window() -> timedelta:
    return timedelta(seconds=settings.get("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60))


def _refuse_while_throttled(username: str) -> None:
    now, allowed = clock.now(), settings.get("LOGIN_FAILURES_ALLOWED", 5)
    with db.transaction() as session:
        recent = session.scalars(select(LoginFailure.failed_at).where(
            LoginFailure.username == username, LoginFailure.failed_at > now - _window())
            .order_by(LoginFailure.failed_at.desc()).limit(allowed)).all()
    if len(recent) >= allowed:
        # Logins open again once the oldest of the last `allowed` failures leaves the window.
        wait = math.ceil((recent[-1] + _window() - now).total_seconds())
        raise TooManyRequests(f"too many failed logins for {username}; try again in {wait} seconds",
                              retry_after=wait)


def _record_failure(username: str) -> None:
    """Counted in the database, so that every node agrees; on the audit log without the password."""
    now = clock.now()
    with db.transaction() as session:
        session.add(LoginFailure(username=username[:64], failed_at=now))
        # Counters older than the window decide nothing any more.
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - 2 * _window()))
        audit.record(session, actor=username[:64], action="auth.failed", detail={"username": username[:64]})


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
    """The principal of a login token or of an integration key. The signature and expiry are checked on
    every request; the database only when the credential was not checked at the current revocation
    generation (see kernel/revocation.py for the bound on how long a revocation elsewhere takes)."""
    if token.startswith(KEY_PREFIX):
        return _principal_from_key(token)
    payload = _payload(token)
    # The generation is read before the database is: a revocation committed after it moves it on.
    generation = revocation.current()
    key = f"{payload['s']}:{payload.get('u')}"
    known = revocation.checked.get(key, generation)
    if known is not None:
        return known
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
        principal = principal_of(user)
    revocation.checked.put(key, generation, principal)
    return principal


def key_hash(key: str) -> str:
    # A key is 256 random bits: a plain SHA-256 is as strong as a slow hash here, and cheap per request.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_principal_name(key_id: int) -> str:
    return f"key:{key_id}"


def _principal_from_key(key: str) -> Principal:
    hashed = key_hash(key)
    generation = revocation.current()
    known = revocation.checked.get(hashed, generation)
    if known is not None:
        return known
    with db.transaction() as session:
        found = session.scalar(select(IntegrationKey).where(IntegrationKey.key_hash == hashed,
                                                           IntegrationKey.revoked_at.is_(None)))
        if found is None:
            raise Unauthenticated("the integration key is not valid or was revoked")
        principal = Principal(key_principal_name(found.id), found.name, frozenset({"integration"}), frozenset())
    revocation.checked.put(hashed, generation, principal)
    return principal


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
            revocation.bump(session)
            audit.record(session, actor=login_session.username, action="user.logout")


def change_password(principal: Principal, old_password: Any, new_password: Any) -> None:
    """Any logged-in person changes their own password (after a reset, the only thing they may do)."""
    if not isinstance(old_password, str):
        raise ValidationFailed("the current password is required",
                               [FieldError("old_password", Bilingual("必填", "required"))])
    new = check_new_password(principal.username, new_password, "new_password")
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == principal.username))
        if user is None or not check_password_hash(user.password_hash, old_password):
            raise ValidationFailed("the current password is wrong", [FieldError(
                "old_password", Bilingual("当前密码不正确", "the current password is wrong"))])
        if old_password == new:
            raise ValidationFailed("the new password is the old one", [FieldError(
                "new_password", Bilingual("新密码不能与当前密码相同", "must differ from the current password"))])
        user.password_hash, user.must_change_password = hash_password(new), False
        revocation.bump(session)
        audit.record(session, actor=principal.username, action="user.password_changed")
