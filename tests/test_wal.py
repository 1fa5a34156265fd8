"""SQLite's write-ahead log is checkpointed by a background thread, with the writers as safety net."""
from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app import wal
from app.database import Database


@pytest.fixture
def database() -> Iterator[Database]:
    database = Database()
    yield database
    database.dispose()


def _autocheckpoint(database: Database) -> int:
    assert database.engine is not None
    with database.engine.connect() as connection:
        return int(connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def _write_rows(database: Database, count: int) -> None:
    assert database.engine is not None
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)"))
    for n in range(count):
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO t (body) VALUES (:body)"), {"body": "x" * 3000 + str(n)})


def _rows_in_database_file(path: Path, tmp_path: Path) -> int:
    """Rows of t that reached the database file itself: a copy of the file without its log."""
    copy = tmp_path / f"copy-{uuid.uuid4().hex}.db"
    shutil.copyfile(path, copy)
    connection = sqlite3.connect(copy)
    try:
        return int(connection.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        connection.close()


def test_the_background_thread_copies_committed_pages_into_the_database(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    database.open(f"sqlite:///{path}", checkpoint_seconds=0.01)
    assert database.checkpointer is not None
    assert _autocheckpoint(database) == wal.FALLBACK_PAGES  # requests checkpoint only as a safety net
    _write_rows(database, 20)
    # Two passes after the last commit: the second one surely started after it.
    for _ in range(2):
        database.checkpointer.passed.clear()
        assert database.checkpointer.passed.wait(timeout=10), "the checkpoint thread made no pass"
    assert _rows_in_database_file(path, tmp_path) == 20


def test_a_database_switched_to_wal_after_the_thread_started_is_checkpointed(tmp_path: Path) -> None:
    # `concord init-db` leaves a file in rollback-journal mode; the server's connections switch it.
    path = tmp_path / "late.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (body TEXT)")
    checkpointer = wal.Checkpointer(str(path), interval=60)
    own = sqlite3.connect(path, isolation_level=None)
    checkpointer.run_once(own)  # a pass before any request: nothing to do yet
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    for n in range(10):
        writer.execute("INSERT INTO t VALUES (?)", ("z" * 2000 + str(n),))
    checkpointer.run_once(own)
    assert _rows_in_database_file(path, tmp_path) == 10
    own.close()
    writer.close()


def test_one_pass_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "once.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (body TEXT)")
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the empty table is in the file, no rows yet
    for n in range(10):
        writer.execute("INSERT INTO t VALUES (?)", ("y" * 2000 + str(n),))
    assert _rows_in_database_file(path, tmp_path) == 0  # all still in the log
    checkpointer = wal.Checkpointer(str(path), interval=60)
    own = sqlite3.connect(path, isolation_level=None)
    checkpointer.run_once(own)
    assert checkpointer.passed.is_set()
    assert _rows_in_database_file(path, tmp_path) == 10
    own.close()
    writer.close()


def test_a_failed_pass_is_logged_and_the_thread_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    checkpointer = wal.Checkpointer(str(tmp_path / "gone.db"), interval=60)
    closed = sqlite3.connect(":memory:")
    closed.close()
    checkpointer.run_once(closed)  # a connection that cannot run the pragma
    assert checkpointer.passed.is_set()
    assert "background checkpoint" in caplog.text


def test_without_an_interval_sqlite_checkpoints_in_the_committing_request(database: Database, tmp_path: Path) -> None:
    database.open(f"sqlite:///{tmp_path / 'plain.db'}", checkpoint_seconds=0)
    assert database.checkpointer is None
    assert _autocheckpoint(database) == 1000  # SQLite's default


def test_an_in_memory_database_has_no_checkpoint_thread(database: Database) -> None:
    database.open("sqlite://", checkpoint_seconds=0.5)
    assert database.checkpointer is None


def test_disposing_the_database_stops_the_thread(database: Database, tmp_path: Path) -> None:
    database.open(f"sqlite:///{tmp_path / 'stop.db'}", checkpoint_seconds=0.01)
    checkpointer = database.checkpointer
    assert checkpointer is not None
    database.dispose()
    assert not checkpointer._thread.is_alive()
