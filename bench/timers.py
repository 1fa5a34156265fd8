"""Firing throughput of the timer service on PostgreSQL: 10,000 due timers fired by 1 and by 3 worker
processes (`concord timers run --now ...`); prints fired/s and duplicates (must be 0).

    .venv/bin/python bench/timers.py [--timers 10000] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Target (issue 3): all 10,000 in <= 30 s with 3 workers on a 2-core machine. The database named in the
URL is used as a server to create (and drop) a scratch database; nothing else in it is touched.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project first, and this folder only as the package `bench` (a script's own folder on the path lets
# a module here hide a standard one of the same name).
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from scratch import scratch_database  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

CASES = 100


def prepare(url: str, count: int) -> None:
    from app import create_app
    from app.services import demo
    from app.services.designer import deployments
    from app.services.intake import cases as case_service
    from app.services.kernel import calendars
    from app.services.kernel.principals import Principal, find_principal
    from app.services.operations import schema

    schema.upgrade(url)
    create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    calendars.import_shipped()
    operator = Principal("bench", "bench", frozenset({"admin"}), frozenset())
    files = {p.name: p.read_bytes() for d in ("processes", "forms") for p in (ROOT / d).iterdir()}
    deployments.deploy(operator, files)
    demo.seed_users("bench-password")
    intake = find_principal("intake1")
    assert intake is not None
    for n in range(CASES):
        case_service.register(intake, {"title": f"基准 {n}", "description": "timer bench", "source": "walk_in",
                                       "category": "labor", "parties": [{"name": "张三", "role": "applicant"}]})
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM timers"))
        conn.execute(text(
            "INSERT INTO timers (instance_id, case_id, task_id, bpmn_id, kind, fire_at, provisional, state, attempts) "
            "SELECT t.instance_id, t.case_id, t.id, t.bpmn_id, 'warning', now() - interval '1 minute', false, "
            f"'waiting', 0 FROM tasks t, generate_series(1, {count // CASES}) WHERE t.state = 'open'"))
    engine.dispose()


def reset(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE timers SET state = 'waiting', fired_at = NULL, fired_by = NULL"))
        # The audit tables refuse TRUNCATE (a trigger); a superuser's replica session skips triggers.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("TRUNCATE audit_log, audit_heads"))
    engine.dispose()


def run_workers(url: str, workers: int) -> float:
    env = {**os.environ, "CONCORD_DATABASE_URL": url, "CONCORD_SECRET_KEY": "bench"}
    now = datetime.now(timezone.utc).isoformat()
    began = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "app.cli", "timers", "run", "--now", now, "--worker", f"w{n}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for n in range(workers)]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit("a worker failed")
    return time.perf_counter() - began


def check(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    with engine.begin() as conn:
        fired = conn.execute(text("SELECT count(*) FROM timers WHERE state = 'fired'")).scalar_one()
        rows, distinct = conn.execute(text("SELECT count(*), count(DISTINCT detail->>'timer') FROM audit_log "
                                           "WHERE action = 'task.warning'")).one()
    engine.dispose()
    return fired, rows - distinct, distinct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("CONCORD_BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    with scratch_database(args.database_url) as (url, version):
        prepare(url, args.timers)
        print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"PostgreSQL {version}")
        for workers in (1, 3):
            reset(url)
            seconds = run_workers(url, workers)
            fired, duplicates, distinct = check(url)
            print(f"{workers} worker(s): {fired} timers fired in {seconds:.1f} s = {fired / seconds:,.0f} fired/s "
                  f"(process start included); duplicates: {duplicates}; distinct firings: {distinct}")

if __name__ == "__main__":
    main()
