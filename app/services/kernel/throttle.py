"""Sliding-window limits on what anyone may ask without logging in (the public progress lookup), per
client address, in this process's memory: a public lookup writes nothing to the database, so counting it
there would let anyone make the database write at will. Several server processes each count their own
share, which bounds a client at (processes × limit); the limit is about guessing, not load."""
from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

from app import clock
from app.errors import TooManyRequests

MAX_CLIENTS = 50_000  # addresses remembered at most: beyond it the quietest are forgotten first


class SlidingWindow:
    """At most `allowed` requests per client within any `window`."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, client: str, allowed: int, window: timedelta, what: str) -> None:
        """Count one request of `client`; TooManyRequests (with the seconds to wait) beyond the limit.
        A refused request is not counted: the window frees up as the admitted ones age out."""
        now = clock.now()
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= max(allowed, 0):
                wait = math.ceil((times[0] + window - now).total_seconds()) if times else 1
                raise TooManyRequests(f"too many {what} from this address; try again in {wait} seconds",
                                      retry_after=wait)
            times.append(now)
            if len(self._seen) > MAX_CLIENTS:
                self._forget_idle(now - window)

    def _forget_idle(self, before: datetime) -> None:
        idle = [client for client, times in self._seen.items() if not times or times[-1] <= before]
        for client in idle or sorted(self._seen, key=lambda c: self._seen[c][-1])[:len(self._seen) // 10]:
            del self._seen[client]

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()


public_lookups = SlidingWindow()
