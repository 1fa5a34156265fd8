"""Commands on a file SQLite database go through the process's one writer, queued on a lock."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.database import Database
from app.errors import ConcurrentUpdate


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database()
    database.open(f"sqlite:///{tmp_path / 'writer.db'}")
    with database.command() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, thread INTEGER, n INTEGER)"))
    yield database
    database.dispose()


def _count(database: Database) -> int:
    with database.transaction() as session:
        return int(session.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_commands_from_many_threads_queue_for_the_writer_and_all_commit(database: Database) -> None:
    failures: list[BaseException] = []

    def write(thread: int) -> None:
        try:
            for n in range(25):
                with database.command() as connection:
                    connection.execute(text("INSERT INTO t (thread, n) VALUES (:t, :n)"), {"t": thread, "n": n})
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _count(database) == 200


def test_a_command_inside_a_command_is_refused_at_once_and_undoes_the_outer_one(database: Database) -> None:
    with pytest.raises(RuntimeError, match="inside another command"):
        with database.command() as connection:
            connection.execute(text("INSERT INTO t (thread, n) VALUES (1, 1)"))
            with database.command():
                pass
    assert _count(database) == 0


def test_a_failed_command_rolls_back_and_the_next_one_commits(database: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        with database.command() as connection:
            connection.execute(text("INSERT INTO t (thread, n) VALUES (1, 1)"))
            raise ZeroDivisionError
    with database.command() as connection:
        connection.execute(text("INSERT INTO t (thread, n) VALUES (2, 2)"))
    assert _count(database) == 1


def test_a_command_that_cannot_get_the_writer_in_time_is_a_conflict(database: Database) -> None:
    assert database.engine is not None and database.limits is not None
    # CONCORD_SQLITE_BUSY_TIMEOUT_SECONDS bounds the wait for the writer, as it bounds SQLite's own.
    database.open(str(database.engine.url), limits=replace(database.limits, sqlite_busy_seconds=0.05))
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.command():
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    try:
        with pytest.raises(ConcurrentUpdate, match="busy"):
            with database.command():
                pass
    finally:
        release.set()
        holder.join()


def test_a_forked_child_opens_its_own_connection(database: Database) -> None:
    import os

    with database.command() as connection:
        connection.execute(text("INSERT INTO t (thread, n) VALUES (0, 0)"))
    pid = os.fork()
    if pid == 0:  # the child: writes through a connection of its own, then leaves without cleanup
        try:
            if database._writer is None or database._writer._connection is not None:
                os._exit(2)  # the parent's connection must not be reused here
            with database.command() as connection:
                connection.execute(text("INSERT INTO t (thread, n) VALUES (1, 1)"))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with database.command() as connection:  # the parent's own connection still works
        connection.execute(text("INSERT INTO t (thread, n) VALUES (2, 2)"))
    assert _count(database) == 3


def test_a_commit_that_fails_leaves_the_writer_free_for_the_next_command(database: Database) -> None:
    with database.command() as connection:
        connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                                "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"))
    with pytest.raises(IntegrityError):  # the deferred foreign key fails the COMMIT itself
        with database.command() as connection:
            connection.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 99)"))
    with database.command() as connection:
        connection.execute(text("INSERT INTO t (thread, n) VALUES (1, 1)"))
    assert _count(database) == 1
    with database.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM child")).scalar_one() == 0
