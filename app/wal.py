"""SQLite's write-ahead log checkpointed on a background thread.

Why: by default the connection whose commit pushes the log past 1000 pages copies the log into the
database file and syncs both files, inside that request. Measured with bench/lifecycle.py that was
about a tenth of a case's time, nearly all of it waiting for the disk. SQLite's documentation names
the remedy: leave checkpoints to a thread of their own. Here a thread runs PASSIVE checkpoints
(they never block readers or writers) every few tenths of a second on its own connection, while the
request connections keep a far higher automatic threshold as a safety net: should the thread fall
behind or die, writers still checkpoint and the log stays bounded (about 40 MB at 10,000 pages).
"""
from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

# Request connections checkpoint themselves only past this many log pages (the thread normally keeps
# the log far below; SQLite's own default is 1000).
FALLBACK_PAGES = 10_000


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on `path` every `interval` seconds until stopped."""

    def __init__(self, path: str, interval: float) -> None:
        self.path, self.interval = path, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"wal-checkpoint {path}", daemon=True)
        self.passed = threading.Event()  # set after each pass (tests wait on it instead of sleeping)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                         uri=self.path.startswith("file:"))
        except sqlite3.Error as exc:
            log.warning("no background checkpoints for %s: %s", self.path, exc)
            return
        try:
            while not self._stop.wait(self.interval):
                self.run_once(connection)
        finally:
            connection.close()

    def run_once(self, connection: sqlite3.Connection) -> None:
        try:
            # A connection that never reads does not notice that the file went over to WAL after it
            # opened it (a database made by `concord init-db` is switched by the server's first
            # connection); reading the schema version looks at the file afresh.
            connection.execute("PRAGMA schema_version").fetchall()
            # Cheap when there is nothing to do: SQLite then neither copies nor syncs.
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # a locked or vanished file: the writers' safety net still holds
            log.warning("background checkpoint of %s failed: %s", self.path, exc)
        self.passed.set()
