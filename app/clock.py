"""The one source of "now". Code asks `clock.now()`; tests and drills move time with `set_clock`.

Times are always timezone-aware UTC; conversion to the centre's zone happens at the edges.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


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


def now() -> datetime:
    return _current.now()


def set_clock(clock: Clock) -> Clock:
    """Install `clock`; returns the previous one so callers can restore it."""
    global _current
    previous, _current = _current, clock
    return previous
