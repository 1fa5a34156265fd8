"""Keyset (cursor) paging: a page starts after (or ends before) the row a cursor names, so that the
hundredth page costs what the first does; and totals that never count a whole list.

A cursor is opaque to clients: the sort key of a row and a direction, in URL-safe base64. A list read
by cursor neither repeats nor skips a row while rows are added or removed around it (a row keeps its
sort key while it is listed: the inbox sorts by due, created and id, none of which a task changes)."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from app.errors import Bilingual, FieldError, ValidationFailed

# A count stops here: a list longer than this says "more than TOTAL_LIMIT" (total_is_exact false)
# instead of counting every row on every request.
TOTAL_LIMIT = 1000
AFTER, BEFORE = "after", "before"


class CursorPage(TypedDict):
    items: list[Any]
    total: int  # exact, or TOTAL_LIMIT meaning "more than that" (total_is_exact false)
    total_is_exact: bool
    page: int | None  # the page number asked for; None on a page read by cursor
    per_page: int
    next_cursor: str | None  # the page after this one; None on the last
    prev_cursor: str | None  # the page before it; None on the first


class Cursor(NamedTuple):
    key: tuple[Any, ...]  # the sort key of the row it points at
    direction: str  # AFTER: the rows after it, in order; BEFORE: the rows before it


def encode(key: tuple[Any, ...], direction: str) -> str:
    values = [{"t": value.isoformat()} if isinstance(value, datetime) else value for value in key]
    raw = json.dumps([direction, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str, length: int) -> Cursor:
    """The cursor `text` names; 422 on anything this module did not write (a key of another length)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        direction, values = json.loads(raw)
        key = tuple(_value(value) for value in values)
        if direction not in (AFTER, BEFORE) or len(key) != length:
            raise ValueError(direction)
        return Cursor(key, direction)
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise invalid() from exc


def invalid() -> ValidationFailed:
    return ValidationFailed("cursor is not one this list gave out",
                            [FieldError("cursor", Bilingual("无效的翻页游标", "not a cursor of this list"))])


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        moment = datetime.fromisoformat(value["t"])
        if moment.tzinfo is None:
            raise ValueError("a naive instant")
        return moment
    if value is None or isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    raise ValueError(f"not a key value: {value!r}")


def total_of(counted: int) -> tuple[int, bool]:
    """(total, total_is_exact) from a count that stopped after TOTAL_LIMIT + 1 rows."""
    return (counted, True) if counted <= TOTAL_LIMIT else (TOTAL_LIMIT, False)
