"""SQLite's durability and waiting settings, and which database errors become 409/503 (on both databases)."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import create_app
from app.config import load_config
from app.database import Database, Limits, db
from app.errors import ConcordError, ConcurrentUpdate


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database()
    database.open(f"sqlite:///{tmp_path / 'durable.db'}")
    yield database
    database.dispose()


def _pragma(database: Database, name: str) -> tuple[int, int]:
    """The pragma's value on a pooled connection and on the writer's."""
    with database.transaction() as session:
        pooled = int(session.execute(text(f"PRAGMA {name}")).scalar_one())
    with database.command() as connection:
        writer = int(connection.execute(text(f"PRAGMA {name}")).scalar_one())
    return pooled, writer


def test_every_commit_is_synced_by_default(database: Database) -> None:
    assert _pragma(database, "synchronous") == (2, 2)  # FULL
    with database.transaction() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"


def test_synchronous_normal_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONCORD_SQLITE_SYNCHRONOUS", "normal")
    config = load_config()
    assert config["SQLITE_SYNCHRONOUS"] == "NORMAL"
    database = Database()
    try:
        database.open(f"sqlite:///{tmp_path / 'fast.db'}", limits=Limits.from_config(config))
        assert _pragma(database, "synchronous") == (1, 1)
    finally:
        database.dispose()


def test_a_synchronous_mode_that_could_corrupt_the_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCORD_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(ValueError, match="NORMAL, FULL, EXTRA"):
        load_config()
    with pytest.raises(ValueError):
        replace(Limits.from_config(load_config({"SQLITE_SYNCHRONOUS": "FULL"})), sqlite_synchronous="OFF")


def test_the_busy_timeout_is_the_setting(database: Database) -> None:
    assert _pragma(database, "busy_timeout") == (30_000, 30_000)
    assert database.engine is not None and database.limits is not None
    database.open(str(database.engine.url), limits=replace(database.limits, sqlite_busy_seconds=2.5))
    assert _pragma(database, "busy_timeout") == (2_500, 2_500)


def test_a_writer_of_another_process_held_past_the_busy_timeout_is_a_409(database: Database) -> None:
    assert database.engine is not None and database.limits is not None
    database.open(str(database.engine.url), limits=replace(database.limits, sqlite_busy_seconds=0.1))
    other = sqlite3.connect(str(database.engine.url.database), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction
        with pytest.raises(ConcurrentUpdate, match="busy"):
            with database.transaction() as session:
                session.execute(text("SELECT 1"))
        with pytest.raises(ConcurrentUpdate, match="busy"):
            with database.command() as connection:
                connection.execute(text("SELECT 1"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    with database.command() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1


def test_the_probe_opens_the_file_and_never_creates_one(database: Database, tmp_path: Path) -> None:
    with database.command():
        pass  # the file exists once a connection was made (`concord init-db` makes it)
    assert database.probe() is True
    missing = tmp_path / "gone" / "missing.db"
    database.open(f"sqlite:///{missing}")
    assert database.probe() is False
    assert not missing.exists()


def test_a_bug_is_not_passed_off_as_an_outage(app: Any) -> None:
    """An error in a statement is a bug (500, logged with its trace), never a 503 or a 409."""
    with pytest.raises(SQLAlchemyError) as raised:
        with db.transaction() as session:
            session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(raised.value, ConcordError)
    with pytest.raises(SQLAlchemyError) as raised:
        with db.command() as connection:
            connection.execute(text("SELECT no_such_column FROM cases"))
    assert not isinstance(raised.value, ConcordError)


def test_the_application_passes_its_settings_to_the_database(tmp_path: Path) -> None:
    create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "SECRET_KEY": "x",
                "SQLITE_SYNCHRONOUS": "NORMAL", "SQLITE_BUSY_TIMEOUT_SECONDS": 4.0})
    try:
        assert _pragma(db, "synchronous") == (1, 1) and _pragma(db, "busy_timeout") == (4_000, 4_000)
    finally:
        db.dispose()
