"""Database round trips of one case's whole life over the API (in-process test client, real database).

Counts what reaches the database server, per request type: on PostgreSQL every libpq round trip (each
statement, BEGIN, COMMIT, ROLLBACK and the pool's ping when it is on) goes through psycopg2's wait
callback, which this counts; on SQLite (no network) the statements SQLAlchemy and the hot path's
prepared statements execute, plus BEGIN/COMMIT.

    .venv/bin/python bench/roundtrips.py [--cases N] [--database-url URL]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The project first, and this folder only as the package `bench` (a script's own folder on the path lets
# a module here hide a standard one of the same name).
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench import workload  # noqa: E402

COUNTS: Counter[str] = Counter()
_current = ["setup"]


@contextmanager
def counting(kind: str) -> Iterator[None]:
    _current[0] = kind
    try:
        yield
    finally:
        _current[0] = "other"


def _count_postgres() -> None:
    import psycopg2.extensions as ext

    from app import pgwait

    pgwait.install()
    inner = ext.get_wait_callback()

    def wait(conn: Any) -> None:
        if conn.status != ext.STATUS_SETUP:  # connecting is not a statement's round trip
            COUNTS[_current[0]] += 1
        inner(conn)

    ext.set_wait_callback(wait)


def _count_sqlite() -> None:
    from sqlalchemy import event

    from app import prepared
    from app.database import db

    assert db.engine is not None

    @event.listens_for(db.engine, "before_cursor_execute")
    def _statement(*_args: Any) -> None:
        COUNTS[_current[0]] += 1

    @event.listens_for(db.engine, "commit")
    def _commit(*_args: Any) -> None:
        COUNTS[_current[0]] += 2  # BEGIN IMMEDIATE and COMMIT

    executed = prepared._executed

    def counted(*args: Any, **kwargs: Any) -> Any:
        COUNTS[_current[0]] += 1
        return executed(*args, **kwargs)

    prepared._executed = counted  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("CONCORD_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/roundtrips.db"
        if url.startswith("postgresql"):
            _count_postgres()
        app = workload.prepare(url)
        if not url.startswith("postgresql"):
            _count_sqlite()
        client = workload.TestClientSession(app.test_client())
        lifecycle = workload.Lifecycle(client)
        lifecycle.login_all()
        lifecycle.case(0)  # warm: the first case fills the per-process caches
        COUNTS.clear()
        for n in range(1, args.cases + 1):
            lifecycle.case(n, counting)
    total = sum(v for k, v in COUNTS.items())
    print(f"database: {url.split('://')[0]}, {args.cases} cases over the API (Flask test client)")
    for kind, value in sorted(COUNTS.items()):
        print(f"  {kind:<12} {value / args.cases:6.1f} round trips per case")
    print(f"  {'total':<12} {total / args.cases:6.1f} round trips per case")


if __name__ == "__main__":
    main()
