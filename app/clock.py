"""The one source of "now" and of "today". Code asks `clock.now()`; tests and drills move time with
`set_clock`.

Times are always timezone-aware UTC; conversion to the centre's zone happens at the edges, with the
zone create_app sets (`set_zone`): the centre's today is `clock.today()`.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock:
    """A clock that only moves when told to: for tests and drills."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("clock times must carry a time zone")
    return at.astimezone(timezone.utc)


_current: Clock = SystemClock()
_zone: tzinfo = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return _current.now()


def set_clock(clock: Clock) -> Clock:
    """Install `clock`; returns the previous one so callers can restore it."""
    global _current
    previous, _current = _current, clock
    return previous


def set_zone(name: str) -> None:
    """The centre's time zone (CONCORD_TIMEZONE): what "today" and local times are counted in."""
    global _zone
    _zone = ZoneInfo(name)


def zone() -> tzinfo:
    return _zone


def today() -> date:
    """Today's date in the centre's time zone."""
    return _current.now().astimezone(_zone).date()
