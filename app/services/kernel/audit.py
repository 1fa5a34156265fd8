"""The append-only audit log: every state change writes its records in the same transaction, as links of
hash chains that `verify` recomputes.

Chains. Each case has a chain of its own and the entries without a case (logins, users, deployments,
calendars) form the system chain. One global chain would make every writer of every node queue on one
head row for the rest of its transaction; a chain per case only orders the writers of one case, who
mostly queue already (a step holds its process instance's row lock). Not all of them do: a claim, a
hand-over or an urge from the board writes to the case's log without that lock. So every chain has a
head row (`audit_heads`: its last seq and hash), and an append moves the head with a conditional UPDATE
whose row lock orders the appenders of that chain until they commit. The system chain's head is one
row too: logins queue on it, which they can afford.

Links. An entry's `hash` is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of its
`seq` (its place in its chain, from 1), its instant as UTC ISO text with microseconds, actor, action,
case_id, instance_id, task_id, detail, and `prev_hash`, the hash of the entry before it (64 zeros for
the first). Each field is hashed as the database hands it back (the detail as its stored JSON parses),
so `verify` recomputes exactly what was written, on either database.

The hot path. A step writes its 2–6 records in one multi-row INSERT. Knowing the previous hash costs no
read: each process remembers the head it last wrote or read for a chain (`heads`), and the UPDATE that
moves the head on only matches when that head is still the chain's (same seq *and* hash). A head another
node or process moved meanwhile, or one of a transaction that rolled back, does not match: the chain's
head is then read under its lock and the links computed again (two more statements, rarely). So a step
costs one UPDATE of a small row more than an unchained log, and nothing relies on a cache being right.

Record last. The head's row lock is held until commit, so an append must be a transaction's last lock:
a transaction that locked another row after appending could deadlock with one that holds that row and
appends to the same chain (a claim: the task row, then the head). Steps collect their records and
append them at the end (projection.sync(record=False), tasks.complete).
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import groupby
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import ValidationFailed
from app.models import SYSTEM_CHAIN, AuditEntry, AuditHead, table_of
from app.services.kernel import queries
from app.services.kernel.principals import Principal

GENESIS = "0" * 64  # the previous hash of a chain's first entry
_A, _H = table_of(AuditEntry), table_of(AuditHead)


def entry(*, actor: str, action: str, case_id: int | None = None, instance_id: int | None = None,
          task_id: str | None = None, detail: dict[str, Any] | None = None,
          at: datetime | None = None) -> dict[str, Any]:
    """An audit record; `at` is the instant of the step it belongs to (default: now)."""
    return {"at": at or clock.now(), "actor": actor, "action": action, "case_id": case_id,
            "instance_id": instance_id, "task_id": task_id, "detail": detail or {}}


def record(conn: Session | Connection, **fields: Any) -> None:
    record_many(conn, [entry(**fields)])


def record_many(conn: Session | Connection, entries: list[dict[str, Any]]) -> None:
    """Append `entries` to their chains, in one INSERT. Call it last in the transaction (see above)."""
    if not entries:
        return
    first = _chain_of(entries[0])
    if all(_chain_of(e) == first for e in entries):  # the usual case: one case's records
        rows = _append(conn, first, entries)
    else:  # several chains: their heads are locked in one order, whoever writes them
        chains: dict[int, list[dict[str, Any]]] = {}
        for e in entries:
            chains.setdefault(_chain_of(e), []).append(e)
        rows = [row for chain in sorted(chains) for row in _append(conn, chain, chains[chain])]
    queries.insert_audit(conn, rows)


def case_timeline(session: Session, case_id: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)))


# Links ---------------------------------------------------------------------------------------------
def canonical_text(prev_hash: str, seq: int, at: datetime, actor: str, action: str, case_id: int | None,
                   instance_id: int | None, task_id: str | None, detail: Any) -> str:
    """What an entry's hash is the SHA-256 of (UTF-8): the canonical JSON of its fields — sorted keys, no
    spaces, non-ASCII as is — with `detail` as the database hands it back. This is the definition;
    chain_hash spells the same text faster. Revision 0008 holds a copy: the three must agree."""
    fields = {"prev": prev_hash, "seq": seq, "at": _utc_text(at), "actor": actor, "action": action,
              "case_id": case_id, "instance_id": instance_id, "task_id": task_id, "detail": detail}
    return _CANONICAL.encode(fields)


def chain_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, case_id: int | None,
               instance_id: int | None, task_id: str | None, detail: Any) -> str:
    """The hash of one entry: canonical_text's, with its fixed keys written in their sorted order directly
    and only `detail` through the encoder (half the time; every record of every step pays it)."""
    text = (f'{{"action":{_string(action)},"actor":{_string(actor)},"at":"{_utc_text(at)}",'
            f'"case_id":{_integer(case_id)},"detail":{_CANONICAL.encode(detail)},'
            f'"instance_id":{_integer(instance_id)},"prev":{_string(prev_hash)},"seq":{int.__repr__(seq)},'
            f'"task_id":{"null" if task_id is None else _string(task_id)}}}')
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
_string = encode_basestring  # a JSON string as _CANONICAL writes it (TypeError for anything else)
_last_instant: tuple[datetime, str] | None = None


def _integer(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


def _utc_text(at: datetime) -> str:
    """The instant as UTC ISO text with microseconds (a step's records share one instant: made once)."""
    global _last_instant
    known = _last_instant
    if known is not None and known[0] is at:
        return known[1]
    text = at.astimezone(timezone.utc).isoformat(timespec="microseconds")
    _last_instant = (at, text)
    return text


_PLAIN = (str, int, float, bool, type(None))


def _as_stored(detail: Any) -> Any:
    """The detail as the database will hand it back: itself when it is made of JSON's own types with text
    keys (nearly always; checked in a fraction of a round trip's time), else the round trip (keys become
    texts, tuples lists)."""
    return detail if _plain(detail) else json.loads(json.dumps(detail))


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    if kind is list:
        return all(_plain(item) for item in value)
    return kind in _PLAIN


def _chain_of(e: Any) -> int:
    case_id = e["case_id"]
    return SYSTEM_CHAIN if case_id is None else int(case_id)


class Heads:
    """The head (seq, hash) this process last wrote or read for each chain: a guess that saves a read,
    always checked by the UPDATE that moves the head (so a stale or rolled-back guess costs a re-read,
    never a wrong link)."""

    def __init__(self, size: int = 20_000) -> None:
        self._items: OrderedDict[int, tuple[int, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, chain: int) -> tuple[int, str] | None:
        return self._items.get(chain)

    def put(self, chain: int, head: tuple[int, str]) -> None:
        with self._lock:
            self._items[chain] = head
            self._items.move_to_end(chain)
            if len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


heads = Heads()


def new_chain(case_id: int) -> None:
    """The case was created by this transaction: its chain has no head yet, so its first append records
    one without looking for it (if the guess is wrong after all, that append looks)."""
    heads.put(case_id, (0, GENESIS))


def _append(conn: Session | Connection, chain: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of `entries` linked onto `chain`, whose head now points at the last of them (its row
    locked by this transaction)."""
    guess = heads.get(chain)
    if guess is not None:
        rows = _linked(guess, entries)
        if guess[0] == 0:  # a new case (new_chain): its first append records its head
            moved = queries.create_audit_head(conn, chain, _head_of(rows))
        else:
            moved = queries.advance_audit_head(conn, chain, guess, _head_of(rows))
        if moved:
            heads.put(chain, _head_of(rows))
            return rows
    head = queries.lock_audit_head(conn, chain)
    if head is None:  # the chain's first entries (a new case)
        rows = _linked((0, GENESIS), entries)
        if queries.create_audit_head(conn, chain, _head_of(rows)):
            heads.put(chain, _head_of(rows))
            return rows
        head = queries.lock_audit_head(conn, chain)  # another transaction began the chain meanwhile
        assert head is not None
    rows = _linked(head, entries)
    if not queries.advance_audit_head(conn, chain, head, _head_of(rows)):
        raise RuntimeError(f"the head of audit chain {chain} moved while locked")
    heads.put(chain, _head_of(rows))
    return rows


def _linked(head: tuple[int, str], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seq, prev = head
    rows = []
    for e in entries:
        seq += 1
        detail = _as_stored(e["detail"] or {})
        link = chain_hash(prev, seq, e["at"], e["actor"], e["action"], e["case_id"], e["instance_id"], e["task_id"],
                          detail)
        rows.append({**e, "detail": detail, "seq": seq, "prev_hash": prev, "hash": link})
        prev = link
    return rows


def _head_of(rows: list[dict[str, Any]]) -> tuple[int, str]:
    return rows[-1]["seq"], rows[-1]["hash"]


# Verification --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Break:
    """The first entry of a chain that does not hold (entry_id None: the chain has no entries left)."""

    chain: int
    entry_id: int | None
    seq: int | None
    problem: str

    def __str__(self) -> str:
        chain = "the system chain" if self.chain == SYSTEM_CHAIN else f"case {self.chain}"
        if self.entry_id is None:
            return f"{chain}: {self.problem}"
        return f"audit entry {self.entry_id} ({chain}, #{self.seq} of its chain): {self.problem}"


@dataclass
class Verification:
    chains: int = 0
    entries: int = 0
    breaks: list[Break] = field(default_factory=list)  # the first break of each broken chain, by entry id

    @property
    def intact(self) -> bool:
        return not self.breaks


_VERIFIED = (_A.c.id, _A.c.case_id, _A.c.seq, _A.c.prev_hash, _A.c.hash, _A.c.at, _A.c.actor, _A.c.action,
             _A.c.instance_id, _A.c.task_id, _A.c.detail)


def verify(principal: Principal, case_id: int | None = None) -> Verification:
    """Recompute every chain (or only the case's) against its entries and its recorded head: an entry
    whose fields were changed, one removed (a gap, or a chain shorter than its head), one inserted or
    replaced (its previous hash does not match), a head that is missing or does not match."""
    principal.require_role("admin")
    if case_id is not None and case_id < 1:
        raise ValidationFailed(f"case ids are positive, not {case_id}")
    result = Verification()
    with db.transaction() as session:
        if db.dialect == "postgresql":
            # The heads and the entries as of one instant, while the log goes on growing (SQLite: this
            # transaction holds the database's write lock, so it changes nothing meanwhile anyway).
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        recorded = _recorded_heads(session, case_id)
        entries = select(*_VERIFIED)
        if case_id is not None:
            entries = entries.where(_A.c.case_id == case_id).order_by(_A.c.seq, _A.c.id)
        else:
            entries = entries.order_by(_A.c.case_id.is_not(None), _A.c.case_id, _A.c.seq, _A.c.id)
        rows = session.execute(entries.execution_options(yield_per=2000))
        for chain, links in groupby(rows, key=_chain_of_row):
            result.chains += 1
            count, broken = _check_chain(chain, links, recorded.pop(chain, None))
            result.entries += count
            if broken is not None:
                result.breaks.append(broken)
        for chain, (seq, _hash) in sorted(recorded.items()):
            result.chains += 1
            if seq > 0:
                result.breaks.append(Break(chain, None, None, f"its head records {seq} entries, none is left"))
    result.breaks.sort(key=lambda b: (b.entry_id is None, b.entry_id or 0, b.chain))
    return result


def _recorded_heads(session: Session, case_id: int | None) -> dict[int, tuple[int, str]]:
    query = select(_H.c.chain, _H.c.seq, _H.c.hash)
    if case_id is not None:
        query = query.where(_H.c.chain == case_id)
    return {row.chain: (row.seq, row.hash) for row in session.execute(query)}


def _chain_of_row(row: Any) -> int:
    return SYSTEM_CHAIN if row.case_id is None else int(row.case_id)


def _check_chain(chain: int, links: Iterable[Any], head: tuple[int, str] | None) -> tuple[int, Break | None]:
    """The number of entries of the chain and its first break."""
    count, expected, prev_hash, prev_id, last = 0, 1, GENESIS, None, None
    broken: Break | None = None
    for row in links:
        count += 1
        if broken is None:
            problem = _problem(row, expected, prev_hash, prev_id)
            if problem is None and head is not None and row.seq > head[0]:
                problem = f"it lies beyond the chain's recorded head (#{head[0]}): added without moving the head"
            if problem is not None:
                broken = Break(chain, row.id, row.seq, problem)
        expected, prev_hash, prev_id, last = row.seq + 1, row.hash, row.id, row
    if broken is not None or last is None:
        return count, broken
    if head is None:
        return count, Break(chain, last.id, last.seq, "the chain has no recorded head")
    if head[0] > last.seq:
        return count, Break(chain, last.id, last.seq, f"the chain ends here, but its head records #{head[0]}: "
                                                      f"the entries after this one were removed")
    if head[1] != last.hash:
        return count, Break(chain, last.id, last.seq, "its hash is not the one the chain's head records: "
                                                      "the entry was replaced")
    return count, None


def _problem(row: Any, expected: int, prev_hash: str, prev_id: int | None) -> str | None:
    if row.seq > expected:
        missing = f"#{expected}" if row.seq == expected + 1 else f"#{expected}–#{row.seq - 1}"
        return f"gap: entries {missing} of the chain before it are missing"
    if row.seq < expected:
        return f"a second entry at #{row.seq} of the chain"
    if chain_hash(row.prev_hash, row.seq, row.at, row.actor, row.action, row.case_id, row.instance_id, row.task_id,
                  row.detail) != row.hash:
        return "content changed: its fields no longer give its hash"
    if row.prev_hash != prev_hash:
        before = f"entry {prev_id}'s" if prev_id is not None else "a first entry's (64 zeros)"
        return f"previous hash does not match: it names {row.prev_hash[:12]}…, {before} is {prev_hash[:12]}…"
    if prev_id is not None and row.id < prev_id:
        return f"out of order: written before entry {prev_id}, which comes first in the chain"
    return None


def breaks_text(breaks: list[Break], limit: int = 20) -> Iterator[str]:
    """The breaks as lines for people, at most `limit` of them."""
    for broken in breaks[:limit]:
        yield f"  {broken}"
    if len(breaks) > limit:
        yield f"  … and {len(breaks) - limit} more broken chains"
