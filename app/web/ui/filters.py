"""The inbox's and the board's search and filters, remembered per user: a list opened without any of
them gets the ones its user chose last (kept in their signed session, by username), so an officer who
works one category all day sets it once. `?reset=1` forgets them."""
from __future__ import annotations

from typing import Any

from flask import request, session

# What the lists' services take (app.services.inbox.tasks.list_tasks, escalation.list_escalations).
FIELDS = ("q", "category", "case_type", "level", "due_before")
_KEY = "list_filters"


MAX_TEXT = 100  # a search text longer than this is no search anyone typed (and the session is a cookie)


def chosen(page: str, username: str, fields: tuple[str, ...] = FIELDS) -> tuple[dict[str, str], bool]:
    """(the filters of this request, whether they were restored: the caller then redirects to them)."""
    store: dict[str, Any] = session.get(_KEY) or {}
    mine = store.get(username) or {}
    if request.args.get("reset"):
        mine.pop(page, None)
        session[_KEY] = {**store, username: mine}
        return {}, False
    given = {name: request.args[name].strip()[:MAX_TEXT] for name in fields if request.args.get(name, "").strip()}
    if given.get("level") not in (None, "0", "1", "2", "3"):
        given.pop("level")
    if given or "filtered" in request.args:  # an explicit choice, the empty one included
        if mine.get(page) != given:
            session[_KEY] = {**store, username: {**mine, page: given}}
        return given, False
    remembered = {name: value for name, value in (mine.get(page) or {}).items() if name in fields}
    return remembered, bool(remembered)
