"""The database: engine, sessions, and the one writer connection of a file SQLite database.

Services own their transactions: `with db.transaction() as session:` (ORM, for queries) and
`with db.command() as conn:` (Core, for state changes) commit on success and roll back on any
exception, so every command is one transaction with its audit record.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import wal
from app.config import SQLITE_SYNCHRONOUS_MODES, load_config
from app.errors import ConcurrentUpdate


@dataclass(frozen=True)
class Limits:
    """How long Concord waits for its database, and how durably SQLite commits: the SQLITE_* settings of
    app.config."""

    sqlite_synchronous: str
    sqlite_busy_seconds: float

    def __post_init__(self) -> None:
        if self.sqlite_synchronous not in SQLITE_SYNCHRONOUS_MODES:
            raise ValueError(f"SQLite synchronous must be one of {SQLITE_SYNCHRONOUS_MODES}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(sqlite_synchronous=config["SQLITE_SYNCHRONOUS"],
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


_AFTER_COMMIT = "concord.after_commit"
# PostgreSQL's deadlock_detected and serialization_failure: the other transaction won; nothing was written.
_CONFLICT_CODES = ("40P01", "40001")
# SQLite's answer when another process held the writer's lock past the busy timeout: the same wait, and
# the same answer, as a command of this process waiting for the writer.
_SQLITE_BUSY = ("database is locked", "database is busy")
_BUSY = "the database is busy with other changes; retry"


def _raise_conflict(exc: OperationalError) -> None:
    if getattr(exc.orig, "pgcode", None) in _CONFLICT_CODES:
        raise ConcurrentUpdate("another request changed the same case at the same moment; retry") from exc
    if isinstance(exc.orig, sqlite3.OperationalError) and str(exc.orig).lower().startswith(_SQLITE_BUSY):
        raise ConcurrentUpdate(_BUSY) from exc
    raise exc


def after_commit(connection: Connection, callback: Callable[[], None]) -> None:
    """Run `callback` after the command transaction of `connection` commits (never on rollback)."""
    connection.info[_AFTER_COMMIT].append(callback)


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


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.limits: Limits | None = None
        self._opened: tuple[str, Limits] | None = None
        self._sessions: sessionmaker[Session] | None = None
        self.checkpointer: wal.Checkpointer | None = None
        self._writer: _Writer | None = None

    def init_app(self, app: Flask) -> None:
        """Connect to the application's DATABASE_URL (SQL_ECHO logs every statement) with its SQLITE_*
        limits. With SQLITE_CHECKPOINT_SECONDS > 0 a file SQLite database is checkpointed by a background
        thread at that interval (see app.wal)."""
        self.open(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False),
                  checkpoint_seconds=app.config.get("SQLITE_CHECKPOINT_SECONDS", 0),
                  limits=Limits.from_config(app.config))

    def open(self, url: str, echo: bool = False, checkpoint_seconds: float = 0, limits: Limits | None = None) -> None:
        """Connect to `url` (again only when it or the limits changed); `checkpoint_seconds` is ignored for
        other databases than a file SQLite one. Without `limits`, those of the environment (app.config)."""
        limits = limits or Limits.from_config(load_config())
        if self.engine is not None and self._opened == (url, limits):
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
            engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
        self.engine, self.limits, self._opened = engine, limits, (url, limits)
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        assert self.engine is not None, "database not configured"
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self._sessions is None:
            raise RuntimeError("database not configured: call create_app() (or db.open(url))")
        try:
            with self._sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            _raise_conflict(exc)

    @contextmanager
    def command(self) -> Iterator[Connection]:
        """A write transaction on a plain connection, for commands on the hot path (prebuilt Core
        statements; the ORM session's bookkeeping would cost more than the statements themselves).
        `after_commit(connection, fn)` registers work to run only once the commit succeeded."""
        if self.engine is None:
            raise RuntimeError("database not configured: call create_app() (or db.open(url))")
        callbacks: list[Callable[[], None]] = []
        try:
            with self._connected() as connection, connection.begin():
                connection.info[_AFTER_COMMIT] = callbacks
                try:
                    yield connection
                finally:
                    connection.info.pop(_AFTER_COMMIT, None)
        except OperationalError as exc:
            _raise_conflict(exc)
        for callback in callbacks:
            callback()

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
        self.limits, self._opened = None, None


db = Database()
