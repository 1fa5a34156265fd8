"""Every wait for PostgreSQL bounded on the client side, so that a stalled server cannot hang a request.

Why: the server's own timeouts (`statement_timeout`, `lock_timeout`) are enforced by the server, and a
server whose processes are stopped (SIGSTOP, a frozen virtual machine, a storage hang) enforces
nothing. Its operating system still completes TCP handshakes and acknowledges what is sent, so TCP
keepalives and `tcp_user_timeout` do not fire either: a client blocked in libpq waits as long as the
stall lasts (45 s in the issue's drill). Only the client can bound that wait.

How: psycopg2's wait callback (`psycopg2.extensions.set_wait_callback`) makes libpq hand every wait —
connecting, sending a statement, reading its answer — to Python, which waits on the socket with a
timeout. For the connections of Concord's engine (`connection_class`):

- connecting (TCP, TLS, authentication, set-up) must finish within the connect timeout;
- a statement whose answer stays silent for `stall_seconds` makes the process check that the server
  still answers at all (`Probe`: a fresh connection running `SELECT 1` within `probe_seconds`, one at
  a time per process). A server that answers is merely busy with a long statement, which its
  `statement_timeout` bounds; the wait goes on. One that does not is stalled or unreachable: the wait
  ends with an OperationalError;
- no answer at all for `backstop_seconds` (the statement timeout and a stall period) ends it too.

An ended wait closes the connection (psycopg2 does, "green panic"), so SQLAlchemy discards it from the
pool and the next checkout connects afresh: the pool recovers by itself once the server answers again.
`deadline(seconds)` bounds every wait of the current thread (the probe and the pool's pre-ping use it).
Connections of other engines in the process (tools, tests) wait as before, without bounds.
"""
from __future__ import annotations

import logging
import math
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bounds:
    connect_seconds: float
    stall_seconds: float
    backstop_seconds: float
    probe_seconds: float
    probe: Callable[[float], bool]


_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every wait for PostgreSQL on this thread ends by `seconds` from now (nested deadlines: the
    earliest holds)."""
    previous: float | None = getattr(_local, "deadline", None)
    end = time.monotonic() + seconds
    _local.deadline = end if previous is None else min(previous, end)
    try:
        yield
    finally:
        _local.deadline = previous


def connection_class(bounds: Bounds) -> type:
    """A psycopg2 connection class (for `connection_factory`) whose waits keep `bounds`."""
    import psycopg2.extensions

    class BoundedConnection(psycopg2.extensions.connection):
        concord_bounds = bounds

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Connecting happens inside the base initialiser, through the wait callback.
            self.concord_connect_by = time.monotonic() + bounds.connect_seconds
            super().__init__(*args, **kwargs)

    return BoundedConnection


_installed = False
_install_lock = threading.Lock()
# psycopg2's constants, bound by install(): the callback runs for every statement, so it looks nothing up.
_POLL_OK = _POLL_READ = _POLL_WRITE = _STATUS_SETUP = -1
_NEVER = float("inf")


def install() -> None:
    """Hand libpq's waits to `wait` (process-wide; idempotent)."""
    global _installed, _POLL_OK, _POLL_READ, _POLL_WRITE, _STATUS_SETUP
    with _install_lock:
        if _installed:
            return
        import psycopg2.extensions as ext

        _POLL_OK, _POLL_READ, _POLL_WRITE, _STATUS_SETUP = ext.POLL_OK, ext.POLL_READ, ext.POLL_WRITE, ext.STATUS_SETUP
        ext.set_wait_callback(wait)
        _installed = True


def wait(conn: Any) -> None:
    """psycopg2's wait callback: drive `conn` until its operation completes, within the bounds.

    It runs for every round trip of every statement (about 60 for a case's life), so it is kept lean:
    measured at about 5 µs of CPU a round trip over libpq's own blocking wait."""
    state = conn.poll()
    if state == _POLL_OK:
        return
    bounds: Bounds | None = getattr(conn, "concord_bounds", None)
    thread_deadline: float | None = getattr(_local, "deadline", None)
    connecting = conn.status == _STATUS_SETUP
    # Only a statement on a bounded connection, outside any deadline, asks whether the server lives.
    checking = bounds is not None and not connecting and thread_deadline is None
    now = time.monotonic()
    end, check_at = _clocks(conn, bounds, connecting, thread_deadline, now)
    poller, registered = select.poll(), -1
    while True:
        if state == _POLL_READ:
            events = select.POLLIN
        elif state == _POLL_WRITE:
            events = select.POLLOUT
        else:
            raise conn.OperationalError(f"bad state from poll: {state}")
        fd = conn.fileno()  # may change while connecting (the next address of a host)
        if fd != registered and registered != -1:
            poller.unregister(registered)
        poller.register(fd, events)  # (again: changes the events)
        registered = fd
        while True:
            if now >= end:
                raise conn.OperationalError(_late(connecting, bounds, thread_deadline, now))
            if now >= check_at:
                assert bounds is not None
                if not bounds.probe(bounds.probe_seconds):
                    raise conn.OperationalError(
                        f"the database server has not answered for {bounds.stall_seconds:g} s and does not "
                        f"answer a new connection within {bounds.probe_seconds:g} s: {GAVE_UP}")
                now = time.monotonic()
                check_at = now + bounds.stall_seconds
                continue
            left = (end if end < check_at else check_at) - now
            if poller.poll(None if left == _NEVER else math.ceil(left * 1000)):
                break
            now = time.monotonic()
        state = conn.poll()
        if state == _POLL_OK:
            return
        now = time.monotonic()
        if checking:  # something arrived: the server is alive, the silence starts again
            end, check_at = _clocks(conn, bounds, connecting, thread_deadline, now)


def _clocks(conn: Any, bounds: Bounds | None, connecting: bool, thread_deadline: float | None,
            now: float) -> tuple[float, float]:
    """(when the wait ends, when to ask whether the server lives), counted from `now`."""
    end = _NEVER
    if bounds is not None:
        end = conn.concord_connect_by if connecting else now + bounds.backstop_seconds
    if thread_deadline is not None and thread_deadline < end:
        end = thread_deadline
    checking = bounds is not None and not connecting and thread_deadline is None
    return end, now + bounds.stall_seconds if checking and bounds is not None else _NEVER


GAVE_UP = "stalled or unreachable"  # in the message of every wait this module ended


def gave_up(error: BaseException | None) -> bool:
    """Did this module end the wait that failed with `error` (rather than the server or the network)?"""
    return error is not None and GAVE_UP in str(error)


def _late(connecting: bool, bounds: Bounds | None, thread_deadline: float | None, now: float) -> str:
    doing = "connecting" if connecting else "waiting for an answer"
    if bounds is None or (thread_deadline is not None and now >= thread_deadline):
        return f"the database server did not answer in time ({doing}): {GAVE_UP}"
    limit = bounds.connect_seconds if connecting else bounds.backstop_seconds
    return f"the database server did not answer within {limit:g} s ({doing}): {GAVE_UP}"


class Probe:
    """Does the server answer a fresh connection's `SELECT 1` within a budget? One probe at a time per
    process: callers arriving while one runs share its answer (waiting at most their own budget), so
    repeated checks during a stall never pile up connections or threads."""

    def __init__(self) -> None:
        self.connect: Callable[[], Any] = _unset
        self._lock = threading.Lock()
        self._flight: _Flight | None = None

    def __call__(self, budget: float) -> bool:
        with self._lock:
            flight, leader = self._flight, False
            if flight is None:
                flight = self._flight = _Flight()
                leader = True
        if not leader:
            return flight.done.wait(budget) and flight.ok
        try:
            flight.ok = self._run(budget)
        finally:
            with self._lock:
                self._flight = None
            flight.done.set()
        return flight.ok

    def _run(self, budget: float) -> bool:
        connection = None
        try:
            with deadline(budget):
                connection = self.connect()
                connection.autocommit = True  # one round trip, no BEGIN
                cursor = connection.cursor()
                cursor.execute("SELECT 1")
                cursor.fetchall()
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means "not answering"; the reason is logged
            reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            log.warning("database probe failed within %.1f s: %s", budget, reason)
            return False
        finally:
            if connection is not None:
                connection.close()


def _unset() -> Any:
    raise RuntimeError("the probe has no connection to make yet")


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
