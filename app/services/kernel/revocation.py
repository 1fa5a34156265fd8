"""The revocation generation: how a request trusts a signed credential without a transaction of its own.

A login token is signed (HMAC) and carries its login session, user and issue time, so a request can
check it without the database. What a signature cannot tell is whether the login was ended since, or
the account changed (logout, deactivation, password change or reset, new roles or groups, a revoked
integration key). Every such change bumps one number in the database, in the same transaction: the
revocation generation. A process remembers which credentials it checked at which generation, and reads
the generation again at most every AUTH_REVOCATION_SECONDS (by app.clock); a credential checked at an
older generation is checked again against the database.

So the node (process) that commits a revocation forgets its copy of the generation at once (the
change applies to its very next request), and every other process applies it within
AUTH_REVOCATION_SECONDS. With 0 every request reads the generation (one small query, no staleness).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import clock
from app.database import after_commit, db
from app.models import Counter, table_of
from app.runtime import settings
from app.services.kernel.principals import Principal

COUNTER = "auth.revocations"
_COUNTERS = table_of(Counter)
_READ = select(_COUNTERS.c.value).where(_COUNTERS.c.name == COUNTER)
_BUMP = (update(_COUNTERS).where(_COUNTERS.c.name == bindparam("b_name"))
         .values(value=_COUNTERS.c.value + 1).returning(_COUNTERS.c.value))
_CREATE = {name: dialect.insert(_COUNTERS).values(name=bindparam("b_name"), value=0)
           .on_conflict_do_nothing(index_elements=["name"])
           for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


class _Checked:
    """Credentials this process checked against the database, each with the revocation generation it was
    checked at: reused while the generation stays, checked again once it moves."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[str, tuple[int, Principal]] = OrderedDict()
        self._lock, self._size = threading.Lock(), size

    def get(self, key: str, generation: int) -> Principal | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != generation:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, generation: int, principal: Principal) -> None:
        with self._lock:
            self._items[key] = (generation, principal)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


checked = _Checked()

_lock = threading.Lock()
_known: tuple[int, datetime] | None = None  # the generation and when this process read it
_forgotten = 0  # how many times this process forgot it: a read that a revocation overtook is not kept


def staleness() -> timedelta:
    """How long another process may go on accepting a revoked credential (AUTH_REVOCATION_SECONDS)."""
    return timedelta(seconds=settings.get("AUTH_REVOCATION_SECONDS", 5))


def current() -> int:
    """The generation as this process may use it now: read again once it is older than the bound."""
    global _known
    now = clock.now()
    with _lock:
        known, epoch = _known, _forgotten
    if known is not None and known[1] <= now < known[1] + staleness():
        return known[0]
    with db.transaction() as session:
        value = session.execute(_READ).scalar()
    generation = int(value or 0)
    with _lock:
        if epoch == _forgotten:
            _known = (generation, now)
    return generation


def bump(executor: Session | Connection) -> None:
    """Within the transaction that revokes or changes a credential: every credential checked before it
    must be checked again. This process forgets the generation as soon as the transaction commits."""
    dialect = (executor.get_bind() if isinstance(executor, Session) else executor).dialect.name
    if executor.execute(_BUMP, {"b_name": COUNTER}).first() is None:
        executor.execute(_CREATE[dialect], {"b_name": COUNTER})
        executor.execute(_BUMP, {"b_name": COUNTER})
    if isinstance(executor, Session):
        event.listen(executor, "after_commit", _forget_after_commit, once=True)
    else:
        after_commit(executor, forget)


def _forget_after_commit(_session: Any) -> None:
    forget()


def forget() -> None:
    """Read the generation again at the next request (after a revocation here, or a new database)."""
    global _known, _forgotten
    checked.clear()  # (memory only: entries of an older generation would never be used again)
    with _lock:
        _known, _forgotten = None, _forgotten + 1
