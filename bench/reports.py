"""Report speed on PostgreSQL: a year of a city's cases (about 230,000, with their tasks) written by bulk
SQL into a scratch database, then reports.summary for the whole year with each grouping.

    .venv/bin/python bench/reports.py [--cases 230000] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Target (issue 6): under a second per summary. The database named in the URL is used as a server to
create (and drop) a scratch database; nothing else in it is touched.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project first, and this folder only as the package `bench` (a script's own folder on the path lets
# a module here hide a standard one of the same name).
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from scratch import scratch_database  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

YEAR = 2026
CATEGORIES = ["family", "neighbor", "property_mgmt", "labor", "gig_labor", "consumer", "auto_consumer", "contract",
              "damages", "housing_land", "land", "expropriation", "medical", "traffic", "environment", "other"]
GROUPS = ["family", "mediation", "property", "labor", "labor", "consumer", "consumer", "mediation", "mediation",
          "mediation", "mediation", "mediation", "mediation", "mediation", "mediation", "mediation"]
SOURCES = ["walk_in", "hotline_12345", "hotline_12345", "police_110", "petition", "grid", "online"]
OUTCOMES = ["resolved", "resolved", "resolved", "resolved", "resolved", "resolved", "mediation_failed",
            "mediation_refused", "withdrawn"]
# Each case gets the four tasks of the happy path; the last one stays open while the case is.
STEPS = [("dispatch", 0, 1), ("sign_for", 1, 1), ("handle", 2, 7), ("feedback", 9, 5)]  # name, start day, limit


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def generate(url: str, count: int) -> float:
    """Cases spread over the year, 90% closed, 12% of tasks late; returns seconds taken."""
    from app import create_app
    from app.services.designer import deployments
    from app.services.kernel.principals import Principal
    from app.services.operations import schema

    began = time.perf_counter()
    schema.upgrade(url)
    create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    files = {p.name: p.read_bytes() for d in ("processes", "forms") for p in (ROOT / d).iterdir()}
    deployments.deploy(Principal("bench", "bench", frozenset({"admin"}), frozenset()), files)
    engine = create_engine(url)
    year_start = f"timestamptz '{YEAR}-01-01 00:00+08'"
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        definition = conn.execute(text("SELECT min(id) FROM process_definitions")).scalar_one()
        conn.execute(text(
            "INSERT INTO process_instances (id, definition_id, state, serializer_version, version, status, "
            f"created_at, updated_at) SELECT g, {definition}, '{{}}', 'bench', 1, 'completed', now(), now() "
            f"FROM generate_series(1, {count}) g"))
        conn.execute(text(f"""
            INSERT INTO cases (id, case_no, title, description, source, category, urgency, grid, status, procedure,
                handling_group, outcome, satisfied, reopen_count, process_instance_id, created_by, created_at,
                received_at, updated_at, closed_at)
            SELECT g, 'ZZ-{YEAR}-' || lpad(g::text, 7, '0'), '基准案件', 'bench', s.source, s.category, 'normal',
                'G' || (g % 300), CASE WHEN s.closed THEN 'closed' ELSE 'handling' END, 'mediation', s.grp,
                CASE WHEN s.closed THEN s.outcome END, CASE WHEN s.closed THEN random() < 0.93 END, 0, g,
                'bench', s.created, s.created, s.created, CASE WHEN s.closed THEN s.created + interval '14 days' END
            FROM generate_series(1, {count}) g,
            LATERAL (SELECT ({_array(CATEGORIES)})[1 + g % 16] AS category, ({_array(GROUPS)})[1 + g % 16] AS grp,
                            ({_array(SOURCES)})[1 + (g / 7) % 7] AS source,
                            ({_array(OUTCOMES)})[1 + (g / 3) % 9] AS outcome,
                            {year_start} + ((g - 1)::float / {count}) * interval '365 days' AS created,
                            random() < 0.9 AS closed) s"""))
        for position, (name, start, limit) in enumerate(STEPS):
            conn.execute(text(f"""
                INSERT INTO tasks (id, instance_id, case_id, case_no, bpmn_id, title, group_name, state, created_at,
                    due_at, due_provisional, limit_working, completed_at, escalation_level)
                SELECT md5(c.id || '-{name}'), c.id, c.id, c.case_no, '{name}', '{name}', c.handling_group,
                    CASE WHEN c.closed_at IS NULL AND {position} = 3 THEN 'open' ELSE 'completed' END,
                    c.created_at + interval '{start} days', c.created_at + interval '{start + limit} days', false,
                    true, CASE WHEN c.closed_at IS NULL AND {position} = 3 THEN NULL
                               ELSE c.created_at + interval '{start} days'
                                    + interval '{limit} days' * (CASE WHEN random() < 0.03 THEN 1.5 ELSE 0.6 END)
                          END, 0
                FROM cases c"""))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - began


def time_summaries(repeat: int) -> None:
    from app import clock
    from app.services.kernel.principals import Principal
    from app.services.reports import summary as reports

    clock.set_clock(clock.FrozenClock(datetime(YEAR + 1, 1, 10, tzinfo=timezone.utc)))
    director = Principal("director", "中心主任", frozenset({"supervisor"}), frozenset())
    year = reports.Period(date(YEAR, 1, 1), date(YEAR, 12, 31))
    for group_by in (None, "category", "group", "source", "grid"):
        reports.summary(director, year, group_by)  # warm the connection pool and the statement cache
        timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            result = reports.summary(director, year, group_by)
            timings.append(time.perf_counter() - began)
        total = result["total"]
        print(f"  group_by={group_by or '-':9} best {min(timings) * 1000:6.0f} ms, worst {max(timings) * 1000:6.0f} ms"
              f"  ({len(result['items'])} groups; received {total['received']:,}, closure {total['closure_rate']}, "
              f"on time {total['on_time_rate']}, resolution {total['resolution_rate']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=230_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("CONCORD_BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    with scratch_database(args.database_url) as (url, version):
        seconds = generate(url, args.cases)
        print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"PostgreSQL {version}")
        print(f"generated {args.cases:,} cases and {args.cases * len(STEPS):,} tasks in {seconds:.0f} s; "
              f"reports.summary for {YEAR}, best and worst of {args.repeat}:")
        time_summaries(args.repeat)

if __name__ == "__main__":
    main()
