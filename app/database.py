"""The database: engine, sessions, and the one writer connection of a file SQLite database.

Services own their transactions: `with db.transaction() as session:` (ORM, for queries) and
`with db.command() as conn:` (Core, for state changes) commit on success and roll back on any
exception, so every command is one transaction with its audit record.

Both turn the database's operational failures into domain errors: a lost race or a lock waited for too
long is ConcurrentUpdate (409, retry), an unreachable, stalled or refusing database is
DatabaseUnavailable (503, retry later). Every other error (a bug) passes through unchanged.
"""
from __future__ import annotations

import logging
import os
import select
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, NoReturn, TypeVar
from urllib.parse import quote

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from app import pgwait, wal
from app.config import SQLITE_SYNCHRONOUS_MODES, load_config
from app.errors import Bilingual, ConcurrentUpdate, DatabaseUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """How long Concord waits for its database: the DB_* and SQLITE_* settings of app.config."""

    connect_seconds: float
    statement_ms: int
    lock_ms: int
    stall_seconds: float
    probe_seconds: float
    sqlite_synchronous: str
    sqlite_busy_seconds: float

    def __post_init__(self) -> None:
        if self.sqlite_synchronous not in SQLITE_SYNCHRONOUS_MODES:
            raise ValueError(f"SQLite synchronous must be one of {SQLITE_SYNCHRONOUS_MODES}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(connect_seconds=config["DB_CONNECT_TIMEOUT_SECONDS"],
                   statement_ms=config["DB_STATEMENT_TIMEOUT_MS"], lock_ms=config["DB_LOCK_TIMEOUT_MS"],
                   stall_seconds=config["DB_STALL_SECONDS"], probe_seconds=config["DB_PROBE_TIMEOUT_SECONDS"],
                   sqlite_synchronous=config["SQLITE_SYNCHRONOUS"],
                   sqlite_busy_seconds=config["SQLITE_BUSY_TIMEOUT_SECONDS"])


def _configure_sqlite(engine: Engine, background_checkpoints: bool, limits: Limits) -> None:
    """SQLite: WAL for concurrent readers, and BEGIN IMMEDIATE so that two writers queue on the
    database lock up front instead of both reading a version and one failing to upgrade its lock.
    With background checkpoints (app.wal) requests checkpoint only as a safety net. `synchronous`
    is FULL unless configured otherwise: in WAL mode that syncs the log at every commit, without which
    (NORMAL) the last commits before a power loss or an OS crash can be lost."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={limits.sqlite_synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(limits.sqlite_busy_seconds * 1000)}")
        if background_checkpoints:
            cursor.execute(f"PRAGMA wal_autocheckpoint={wal.FALLBACK_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight on the driver: every command begins here, and the statement needs no bookkeeping.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


# PostgreSQL's TCP keepalives (an idle connection to a host that vanished is closed within a minute) and
# tcp_user_timeout (data left unacknowledged this long closes the connection). Neither notices a server
# whose processes are stopped — its kernel still answers for it —, which is what app.pgwait is for.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
               "tcp_user_timeout": 30_000}


def _postgres_engine(url: str, echo: bool, limits: Limits) -> tuple[Engine, pgwait.Probe]:
    """An engine whose sessions carry the statement and lock timeouts, whose waits are bounded on the
    client side (app.pgwait), whose pool hands out a connection within the connect timeout, and a probe
    that asks a fresh connection whether the server answers."""
    pgwait.install()
    given = make_url(url).query
    settings = {"connect_timeout": max(1, round(limits.connect_seconds)), **_KEEPALIVES}
    args: dict[str, Any] = {key: value for key, value in settings.items() if key not in given}
    # The URL's own options (say, a search_path) come after ours, and win where they overlap.
    options = f"-c statement_timeout={limits.statement_ms} -c lock_timeout={limits.lock_ms}"
    args["options"] = f"{options} {given['options']}" if isinstance(given.get("options"), str) else options
    statement_seconds = limits.statement_ms / 1000 if limits.statement_ms > 0 else float("inf")
    probe = pgwait.Probe()
    bounds = pgwait.Bounds(connect_seconds=limits.connect_seconds, stall_seconds=limits.stall_seconds,
                           backstop_seconds=statement_seconds + limits.stall_seconds,
                           probe_seconds=limits.probe_seconds, probe=probe)
    # No ping before every checkout (a round trip per transaction): a connection the server closed while
    # it sat in the pool is told by its socket (`_closed_while_idle`, no round trip), and a request whose
    # first statements meet a connection lost in between is run once more (Database.retrying).
    engine = create_engine(url, echo=echo, pool_pre_ping=False, pool_size=10, max_overflow=10,
                           pool_timeout=limits.connect_seconds,
                           connect_args={**args, "connection_factory": pgwait.connection_class(bounds)})
    url_args, url_kwargs = engine.dialect.create_connect_args(engine.url)
    probe.connect = lambda: engine.dialect.connect(*url_args, **{**url_kwargs, **args})
    event.listen(engine, "checkout", _closed_while_idle)
    return engine, probe


def _closed_while_idle(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose server went away (restart, failover, an administrator's terminate, an
    idle timeout) has said so on its socket: the server's goodbye or the end of the stream is waiting
    there, where an idle connection has nothing to read. The pool then replaces it (DisconnectionError
    at checkout). A host that vanished without a word is met by the first statement instead."""
    if dbapi_connection.closed:
        raise DisconnectionError("the connection was closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise DisconnectionError("the server closed this connection while it was idle in the pool")


_AFTER_COMMIT = "concord.after_commit"
# PostgreSQL's deadlock_detected and serialization_failure: the other transaction won; nothing was written.
_CONFLICT_CODES = ("40P01", "40001")
# lock_not_available: the row stayed locked by another transaction for the whole lock timeout.
_LOCK_TIMEOUT = "55P03"
# Classes of PostgreSQL error codes that say the server cannot do the work now, whatever the statement:
# connection exceptions, insufficient resources (disk, memory, connections), operator intervention
# (shutting down, starting up, statement timeout), system errors; and a read-only transaction, met when a
# failover left the node on a standby.
_UNAVAILABLE_CLASSES = ("08", "53", "57")
_UNAVAILABLE_CODES = ("58000", "58030", "25006")
# SQLite's messages for a database file that cannot be used at all.
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk i/o error", "database or disk is full")
# SQLite's answer when another process held the writer's lock past the busy timeout: the same wait, and
# the same answer, as a command of this process waiting for the writer.
_SQLITE_BUSY = ("database is locked", "database is busy")
_UNAVAILABLE = Bilingual("数据库暂时无法访问（连不上、没有响应或资源不足），请稍后重试",
                         "the database is unavailable (unreachable, not answering or out of resources); "
                         "retry shortly")
_TOO_SLOW = Bilingual("数据库语句超时，请稍后重试", "a database statement ran past its time limit; retry shortly")
_HELD = Bilingual("所需记录正被另一操作长时间占用，请稍后重试",
                  "a record this change needs is held by another change that is taking long; retry shortly")
_BUSY = "the database is busy with other changes; retry"


def _translated(exc: Exception) -> NoReturn:
    """Raise the domain error an operational database failure means; any other error unchanged."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "pgcode", None)
    if code in _CONFLICT_CODES:
        raise ConcurrentUpdate("another request changed the same case at the same moment; retry") from exc
    if code == _LOCK_TIMEOUT:
        raise ConcurrentUpdate(_HELD) from exc
    reason = _first_line(orig if orig is not None else exc)
    if isinstance(orig, sqlite3.OperationalError) and reason.lower().startswith(_SQLITE_BUSY):
        raise ConcurrentUpdate(_BUSY) from exc
    if _unavailable(exc, orig, code):
        log.warning("database unavailable: %s", reason)
        raise DatabaseUnavailable(_TOO_SLOW if code == "57014" else _UNAVAILABLE) from exc
    raise exc


def _unavailable(exc: Exception, orig: Any, code: str | None) -> bool:
    if isinstance(exc, (PoolTimeout, DisconnectionError)):
        return True  # no connection free within the connect timeout; a connection that died at checkout
    if isinstance(orig, sqlite3.Error):
        return isinstance(orig, sqlite3.OperationalError) and str(orig).lower().startswith(_SQLITE_UNAVAILABLE)
    if not type(orig).__module__.startswith("psycopg2"):
        return False
    if code is None:
        # No answer from the server to classify: it could not be reached, the connection broke, or
        # app.pgwait gave up waiting. (psycopg2's errors for misuse are not OperationalErrors.)
        return isinstance(exc, DBAPIError) and (exc.connection_invalidated or isinstance(exc, OperationalError))
    return code[:2] in _UNAVAILABLE_CLASSES or code in _UNAVAILABLE_CODES


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__


def after_commit(connection: Connection, callback: Callable[[], None]) -> None:
    """Run `callback` after the command transaction of `connection` commits (never on rollback)."""
    connection.info[_AFTER_COMMIT].append(callback)


class _Journal:
    """What the transactions of one unit of work (a request under Database.retrying) came to."""

    __slots__ = ("commits", "lost_before_commit")

    def __init__(self) -> None:
        self.commits = 0
        self.lost_before_commit = False

    def failed(self, exc: Exception, committing: bool) -> None:
        self.lost_before_commit = (not committing and isinstance(exc, DBAPIError) and exc.connection_invalidated
                                   and not pgwait.gave_up(exc.orig))


_local = threading.local()


def _journal() -> _Journal:
    journal: _Journal | None = getattr(_local, "journal", None)
    # Outside Database.retrying nobody reads it: a throwaway one.
    return journal if journal is not None else _Journal()


class _Writer:
    """The one connection a process writes a file SQLite database through.

    SQLite admits one writer at a time anyway; within a process, commands queue on a lock and the
    next one starts the moment the previous commits, instead of polling SQLite's busy handler. The
    connection stays open between commands: its page cache stays warm, and a command skips the pool's
    checkout and check-in (a third of the cost of an empty transaction). Other processes on the same
    file still meet SQLite's own lock."""

    def __init__(self, engine: Engine, wait_seconds: float) -> None:
        self._engine = engine
        # How long a command waits for the writer: as long as SQLite's own busy timeout.
        self._wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._connection: Connection | None = None
        # A forked child never touches its parent's connection: it opens its own.
        writer = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_in_child(writer))

    def _forget(self) -> None:
        self._connection, self._owner = None, None
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        if self._owner == threading.get_ident():
            raise RuntimeError("a command may not run inside another command on the same thread")
        if not self._lock.acquire(timeout=self._wait_seconds):
            raise ConcurrentUpdate(_BUSY)
        try:
            self._owner = threading.get_ident()
            if self._connection is None or self._connection.closed or self._connection.invalidated:
                self._connection = self._engine.connect()
            try:
                yield self._connection
            except BaseException:
                self._recover()
                raise
        finally:
            self._owner = None
            self._lock.release()

    def _recover(self) -> None:
        """After a failed command, the connection must hold no transaction: a COMMIT that failed (a
        deferred constraint, a full disk) can leave SQLite's transaction open, and with it the database's
        write lock, where the pool's check-in would have rolled it back. Undo it, or drop the connection."""
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            return
        try:
            driver = connection.connection.driver_connection
            if driver is not None and getattr(driver, "in_transaction", False):
                driver.rollback()
        except Exception:  # noqa: BLE001 - the connection is beyond use: a fresh one replaces it
            connection.invalidate()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = None


def _forget_in_child(writer: weakref.ref[_Writer]) -> None:
    alive = writer()
    if alive is not None:
        alive._forget()


def _read_schema(path: str, timeout: float) -> None:
    # mode=rw: a missing file is an error here, never created empty.
    connection = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=timeout)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        connection.close()


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.limits: Limits | None = None
        self._sessions: sessionmaker[Session] | None = None
        self.checkpointer: wal.Checkpointer | None = None
        self._writer: _Writer | None = None
        self._probe: pgwait.Probe | None = None
        self._opened: tuple[str, Limits, bool] | None = None

    def init_app(self, app: Flask) -> None:
        """Connect to the application's DATABASE_URL (SQL_ECHO logs every statement) with its DB_* and
        SQLITE_* limits. With SQLITE_CHECKPOINT_SECONDS > 0 a file SQLite database is checkpointed by a
        background thread at that interval (see app.wal)."""
        self.open(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False),
                  checkpoint_seconds=app.config.get("SQLITE_CHECKPOINT_SECONDS", 0),
                  limits=Limits.from_config(app.config))

    def open(self, url: str, echo: bool = False, checkpoint_seconds: float = 0, limits: Limits | None = None) -> None:
        """Connect to `url` (again only when it, the limits or `echo` changed); `checkpoint_seconds` is ignored for
        other databases than a file SQLite one. Without `limits`, those of the environment (app.config)."""
        limits = limits or Limits.from_config(load_config())
        if self.engine is not None and self._opened == (url, limits, echo):
            return
        self.dispose()
        if url.startswith("sqlite"):
            engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False,
                                                                 "timeout": limits.sqlite_busy_seconds})
            path = engine.url.database
            background = checkpoint_seconds > 0 and path not in (None, "", ":memory:")
            _configure_sqlite(engine, background, limits)
            if background:
                self.checkpointer = wal.Checkpointer(str(path), checkpoint_seconds)
                self.checkpointer.start()
            if path not in (None, "", ":memory:"):
                self._writer = _Writer(engine, limits.sqlite_busy_seconds)
        else:
            engine, self._probe = _postgres_engine(url, echo, limits)
        self.engine, self.limits, self._opened = engine, limits, (url, limits, echo)
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)

    def probe(self) -> bool:
        """Does the database answer? Within the probe timeout, whatever state the database is in: a fresh
        connection (PostgreSQL: one probe at a time per process, shared by concurrent callers; SQLite:
        the file opened and its schema read), never the pool, which a stall may hold. Never raises."""
        if self.engine is None or self.limits is None:
            return False
        if self._probe is not None:
            return self._probe(self.limits.probe_seconds)
        path = self.engine.url.database
        try:
            if path in (None, "", ":memory:"):
                with self.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return True
            _read_schema(path, self.limits.probe_seconds)
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means "not answering"; the reason is logged
            log.warning("database probe failed: %s", exc)
            return False

    @property
    def dialect(self) -> str:
        assert self.engine is not None, "database not configured"
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self._sessions is None:
            raise RuntimeError("database not configured: call create_app() (or db.open(url))")
        committing = False
        try:
            with self._sessions() as session, session.begin():
                yield session
                committing = True
        except (DBAPIError, PoolTimeout, DisconnectionError) as exc:
            _journal().failed(exc, committing)
            _translated(exc)
        _journal().commits += 1

    @contextmanager
    def command(self) -> Iterator[Connection]:
        """A write transaction on a plain connection, for commands on the hot path (prebuilt Core
        statements; the ORM session's bookkeeping would cost more than the statements themselves).
        `after_commit(connection, fn)` registers work to run only once the commit succeeded."""
        if self.engine is None:
            raise RuntimeError("database not configured: call create_app() (or db.open(url))")
        callbacks: list[Callable[[], None]] = []
        committing = False
        try:
            with self._connected() as connection, connection.begin():
                # The dict itself, not `connection.info` again on the way out: a statement that lost the
                # connection (a stall, a reset) leaves it invalidated, and asking it for its info then
                # raises PendingRollbackError over the error that tells the outage (503, not 500).
                info = connection.info
                info[_AFTER_COMMIT] = callbacks
                try:
                    yield connection
                finally:
                    info.pop(_AFTER_COMMIT, None)
                committing = True
        except (DBAPIError, PoolTimeout, DisconnectionError) as exc:
            _journal().failed(exc, committing)
            _translated(exc)
        _journal().commits += 1
        for callback in callbacks:
            callback()

    def retrying(self, work: Callable[[], T]) -> T:
        """Run `work` (a request's whole work), and once more when it failed because the database
        connection was lost before anything of it committed: a connection the server dropped since the
        pool last used it (no ping checks it before use). Not when a commit was under way (its outcome is
        unknown), nor after an earlier transaction of `work` committed, nor when app.pgwait gave up on a
        stalled server (waiting again would double the wait for the same answer)."""
        previous = getattr(_local, "journal", None)
        journal = _local.journal = _Journal()
        try:
            try:
                return work()
            except DatabaseUnavailable:
                if journal.commits or not journal.lost_before_commit:
                    raise
                log.warning("the database connection was lost before this request changed anything: "
                            "running it once more on a fresh connection")
            _local.journal = _Journal()
            return work()
        finally:
            _local.journal = previous

    def _connected(self) -> Any:
        assert self.engine is not None
        return self._writer.connection() if self._writer is not None else self.engine.connect()

    @contextmanager
    def savepoint(self, connection: Connection) -> Iterator[None]:
        """A nested transaction whose failure undoes only its own work, including the after-commit
        callbacks it registered (a rolled-back step must not publish its workflow to the cache)."""
        callbacks: list[Callable[[], None]] = connection.info[_AFTER_COMMIT]
        mark = len(callbacks)
        nested = connection.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            del callbacks[mark:]
            raise
        nested.commit()

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        if self._writer is not None:
            self._writer.close()
        if self.engine is not None:
            self.engine.dispose()
        self.engine, self._sessions, self.checkpointer, self._writer = None, None, None, None
        self.limits, self._probe, self._opened = None, None, None


db = Database()
