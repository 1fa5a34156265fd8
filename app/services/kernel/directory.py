"""The centres (综治中心) and groups as every request reads them: names for pages and reports, and
which groups a supervisor oversees (their centres and every centre below).

Read from the database and kept for CONCORD_DIRECTORY_CACHE_SECONDS, because they change rarely and are
asked on every request; the node that changes them forgets its copy at once (`forget`), other nodes
within that many seconds."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import db
from app.models import Centre, Group
from app.runtime import settings

GROUP_KINDS = ("window", "dispatch", "mediation", "department", "supervision", "external")


@dataclass(frozen=True)
class CentreInfo:
    key: str
    name: str
    parent: str | None


@dataclass(frozen=True)
class GroupInfo:
    key: str
    name: str
    name_en: str | None
    kind: str
    centre: str


@dataclass(frozen=True)
class Directory:
    centres: dict[str, CentreInfo] = field(default_factory=dict)
    groups: dict[str, GroupInfo] = field(default_factory=dict)

    def below(self, key: str) -> set[str]:
        """The centre `key` and every centre under it."""
        found, frontier = {key}, [key]
        while frontier:
            parent = frontier.pop()
            for child in (c.key for c in self.centres.values() if c.parent == parent):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
        return found

    def oversight(self, groups: frozenset[str]) -> frozenset[str] | None:
        """The groups a supervisor in `groups` oversees: those of their groups' centres and the centres
        below; None (everything) when one of those centres is a root of the tree, so that the top centre
        also oversees groups that diagrams name but nobody has placed yet."""
        centres = {self.groups[g].centre for g in groups if g in self.groups}
        if any(self.centres[c].parent is None for c in centres if c in self.centres):
            return None
        reach: set[str] = set()
        for centre in centres:
            reach |= self.below(centre)
        return frozenset(g.key for g in self.groups.values() if g.centre in reach)

    def label(self, group: str | None, english: bool = False) -> str:
        """A group's name for people (its key only when the directory does not know it)."""
        info = self.groups.get(group or "")
        if info is None:
            return group or "—"
        return (info.name_en or info.name) if english else info.name


_lock = threading.Lock()
_cached: tuple[float, Directory] | None = None


def current(session: Session | None = None) -> Directory:
    """The directory; read with `session` when the caller is inside a transaction already (a second one
    would wait for it on SQLite)."""
    global _cached
    with _lock:
        if _cached is not None and time.monotonic() - _cached[0] < settings.get("DIRECTORY_CACHE_SECONDS", 30):
            return _cached[1]
    if session is not None:
        directory = _read(session)
    else:
        with db.transaction() as own:
            directory = _read(own)
    with _lock:
        _cached = (time.monotonic(), directory)
    return directory


def _read(session: Session) -> Directory:
    centres = {c.key: c for c in session.scalars(select(Centre))}
    by_id = {c.id: c.key for c in centres.values()}
    return Directory(
        centres={c.key: CentreInfo(c.key, c.name, by_id.get(c.parent_id) if c.parent_id else None)
                 for c in centres.values()},
        groups={g.key: GroupInfo(g.key, g.name, g.name_en, g.kind, by_id[g.centre_id])
                for g in session.scalars(select(Group))})


def forget() -> None:
    """Read the directory afresh at the next request (it was changed, or another database configured)."""
    global _cached
    with _lock:
        _cached = None
