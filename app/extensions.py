"""Process-wide objects: the database (engine + sessions) and the scheduler handle.

Services own their transactions: `with db.transaction() as session:` (ORM, for queries) and
`with db.command() as connection:` (Core, for state changes) commit on success and roll back on any
exception, so every command is one transaction with its audit record.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import wal
from app.errors import ConcurrentUpdate


def _configure_sqlite(engine: Engine, background_checkpoints: bool) -> None:
    """SQLite: WAL for concurrent readers, and BEGIN IMMEDIATE so that two writers queue on the
    database lock up front instead of both reading a version and one failing to upgrade its lock.
    With background checkpoints (app.wal) requests checkpoint only as a safety net."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
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


def _raise_conflict(exc: OperationalError) -> None:
    if getattr(exc.orig, "pgcode", None) in _CONFLICT_CODES:
        raise ConcurrentUpdate("another request changed the same case at the same moment; retry") from exc
    raise exc


def after_commit(connection: Connection, callback: Callable[[], None]) -> None:
    """Run `callback` after the command transaction of `connection` commits (never on rollback)."""
    connection.info[_AFTER_COMMIT].append(callback)


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self.checkpointer: wal.Checkpointer | None = None

    def configure(self, url: str, echo: bool = False, checkpoint_seconds: float = 0) -> None:
        """`checkpoint_seconds` > 0: a file SQLite database is checkpointed by a background thread
        at that interval (see app.wal); ignored for other databases."""
        if self.engine is not None and str(self.engine.url) == url:
            return
        self.dispose()
        if url.startswith("sqlite"):
            engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
            path = engine.url.database
            background = checkpoint_seconds > 0 and path not in (None, "", ":memory:")
            _configure_sqlite(engine, background)
            if background:
                self.checkpointer = wal.Checkpointer(str(path), checkpoint_seconds)
                self.checkpointer.start()
        else:
            engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        assert self.engine is not None, "database not configured"
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self._sessions is None:
            raise RuntimeError("database not configured: call db.configure(url) or create_app()")
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
            raise RuntimeError("database not configured: call db.configure(url) or create_app()")
        callbacks: list[Callable[[], None]] = []
        try:
            with self.engine.begin() as connection:
                connection.info[_AFTER_COMMIT] = callbacks
                try:
                    yield connection
                finally:
                    connection.info.pop(_AFTER_COMMIT, None)
        except OperationalError as exc:
            _raise_conflict(exc)
        for callback in callbacks:
            callback()

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
        if self.engine is not None:
            self.engine.dispose()
        self.engine, self._sessions, self.checkpointer = None, None, None


db = Database()

# The running configuration (see app.config); create_app fills it, services read it.
settings: dict[str, Any] = {}

# The in-process timer scheduler (APScheduler), when this process runs one.
scheduler: Any = None


def scheduler_state() -> str:
    return "running" if scheduler is not None and getattr(scheduler, "running", False) else "stopped"
