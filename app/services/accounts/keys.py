"""Integration keys: the machine accounts of the 12345 / 110 / court feeds. A key is shown once, when it
is made, and kept only as its hash; revoking it refuses it at once on the node that revoked it, on every other within
CONCORD_AUTH_REVOCATION_SECONDS (kernel/revocation.py)."""
from __future__ import annotations

import secrets
from typing import Any, TypedDict

from sqlalchemy import select

from app import clock
from app.database import db
from app.errors import Bilingual, FieldError, NotFound, ValidationFailed
from app.models import IntegrationKey
from app.services.accounts.auth import KEY_PREFIX, key_hash
from app.services.kernel import audit, present, revocation
from app.services.kernel.principals import Principal


class KeyItem(TypedDict):
    id: int
    name: str
    source: str
    created_by: str
    created_at: str | None
    revoked_at: str | None


def _item(key: IntegrationKey) -> KeyItem:
    return {"id": key.id, "name": key.name, "source": key.source, "created_by": key.created_by,
            "created_at": present.iso(key.created_at), "revoked_at": present.iso(key.revoked_at)}


def _text(body: dict[str, Any], field: str, limit: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise ValidationFailed(f"{field} is required (at most {limit} characters)", [FieldError(
            field, Bilingual(f"必填（最多 {limit} 字）", f"required, at most {limit} characters"))])
    return value.strip()


def list_keys(principal: Principal) -> list[KeyItem]:
    principal.require_role("admin")
    with db.transaction() as session:
        return [_item(k) for k in session.scalars(select(IntegrationKey).order_by(IntegrationKey.id))]


def create_key(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """POST /integration-keys → the key itself, this once."""
    principal.require_role("admin")
    name, source = _text(body, "name", 100), _text(body, "source", 32)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        row = IntegrationKey(name=name, source=source, key_hash=key_hash(key), created_by=principal.username,
                             created_at=clock.now())
        session.add(row)
        session.flush()
        audit.record(session, actor=principal.username, action="integration_key.created",
                     detail={"id": row.id, "name": name, "source": source})
        return {"id": row.id, "name": name, "source": source, "key": key}


def revoke_key(principal: Principal, key_id: int) -> None:
    principal.require_role("admin")
    with db.transaction() as session:
        row = session.get(IntegrationKey, key_id)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"integration key {key_id} does not exist")
        row.revoked_at = clock.now()
        revocation.bump(session)
        audit.record(session, actor=principal.username, action="integration_key.revoked",
                     detail={"id": key_id, "name": row.name})
