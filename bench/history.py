"""Cost of a step as a case's history grows: one case returned to dispatch again and again.

A loop is two steps through Concord's services (dispatch completed, then sign_for returned to dispatch),
each one transaction with its projection and audit records, as the API does. The per-step cost is
measured at loops 2, 10, 100, 500 and 1000 (the median step of the five loops from there) and the stored
state's size there, twice: warm (the workflow cache hits, as on a single worker) and cold (the cache
emptied before every step, so each step loads the state from the database: what a multi-worker deployment
sees when steps are hours apart). The database is a SQLite file in WAL mode, or --database-url.

    .venv/bin/python bench/history.py [--loops 1000] [--runs 3] [--database-url URL] [--uncompacted]

Prints, per checkpoint, min/median/max over the runs, and the ratio of the last checkpoint's step to the
2nd loop's (target <= 1.5). --uncompacted also runs the engine without compaction (app.engine.compaction
switched off) up to loop 150, for comparison: past ~186 loops it fails with a RecursionError.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASE = {"title": "长历史基准案件", "description": "反复退回的案件", "source": "walk_in", "category": "neighbor"}
DISPATCH = {"handling_group": "mediation", "complexity": "general"}
RETURN = {"accepted": False, "return_reason": "不属于本单位职责"}
WINDOW = 9  # loops measured from each checkpoint on


class Cost(NamedTuple):
    wall: float  # seconds of the clock on the wall
    cpu: float  # seconds of this process's CPU (SQLite runs inside it): steadier on a shared machine


Result = dict[int, tuple[Cost, int]]


def setup(url: str) -> Callable[[int, bool, list[int]], Result]:
    """A driver of one new case through `loops` loops on the database at `url` (migrated, the routes
    deployed and the demo users seeded first)."""
    from sqlalchemy import create_engine, text

    from app import create_app
    from app.services import demo
    from app.services.designer import deployments
    from app.services.inbox import tasks
    from app.services.intake import cases as case_service
    from app.services.kernel import instances
    from app.services.kernel.principals import Principal, find_principal
    from app.services.operations import schema

    schema.upgrade(url)
    create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    operator = Principal("bench", "bench", frozenset({"admin"}), frozenset())
    files = {p.name: p.read_bytes() for d in ("processes", "forms") for p in (ROOT / d).iterdir()}
    deployments.deploy(operator, files)
    demo.seed_users("bench-password")
    users = {name: find_principal(name) for name in ("intake1", "dispatch1", "mediator1")}
    numbers = count()
    database = create_engine(url)

    def state_size(case_id: int) -> int:
        with database.connect() as conn:
            return int(conn.execute(text(
                "SELECT length(state) FROM process_instances WHERE id = "
                "(SELECT process_instance_id FROM cases WHERE id = :case)"), {"case": case_id}).scalar_one())

    def step(user: str, task: dict[str, Any], data: dict[str, Any], cold: bool) -> tuple[Cost, Any]:
        if cold:
            instances.cache.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        result = tasks.complete(users[user], task["id"], data)
        return Cost(time.perf_counter() - wall, time.process_time() - cpu), result["next_tasks"]

    def drive(loops: int, cold: bool, checkpoints: list[int]) -> Result:
        n = next(numbers)
        body = {**CASE, "parties": [{"name": "李四", "role": "applicant", "phone": f"137{n % 10**8:08d}"}]}
        case, _created = case_service.register(users["intake1"], body)
        [task] = case["active_tasks"]
        per_loop: list[Cost] = []
        sizes: dict[int, int] = {}
        gc.collect()
        for loop in range(1, loops + WINDOW):
            first, [task] = step("dispatch1", task, DISPATCH, cold)
            second, [task] = step("mediator1", task, RETURN, cold)
            assert task["name"] == "dispatch"
            per_loop.append(Cost((first.wall + second.wall) / 2, (first.cpu + second.cpu) / 2))
            if loop in checkpoints:
                sizes[loop] = state_size(case["id"])
        return {k: (Cost(statistics.median(c.wall for c in per_loop[k - 1:k - 1 + WINDOW]),
                         statistics.median(c.cpu for c in per_loop[k - 1:k - 1 + WINDOW])), sizes[k])
                for k in checkpoints}

    return drive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("CONCORD_BENCH_DATABASE_URL"))
    parser.add_argument("--uncompacted", action="store_true", help="also run without compaction, to loop 150")
    args = parser.parse_args()
    checkpoints = [k for k in (2, 10, 100, 500, 1000) if k <= args.loops]
    with tempfile.TemporaryDirectory() as tmp:
        drive = setup(args.database_url or f"sqlite:///{tmp}/history.db")
        drive(3, False, [2])  # warm up imports and caches
        results = {mode: [drive(args.loops, mode == "cold", checkpoints) for _ in range(args.runs)]
                   for mode in ("warm", "cold")}
        uncompacted = None
        if args.uncompacted:
            from app.engine import serializer
            serializer.compact = lambda workflow: None  # type: ignore[assignment]
            before = [k for k in checkpoints if k <= 100] + [150]
            uncompacted = {mode: [drive(150, mode == "cold", before) for _ in range(args.runs)]
                           for mode in ("warm", "cold")}
    store = "SQLite (file, WAL)" if not args.database_url else args.database_url.split("://")[0]
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, {store}")
    print(f"one case, dispatch -> return loops; ms per step (median of the {WINDOW} loops from the checkpoint), "
          f"min/median/max over {args.runs} runs; stored state in bytes")
    report("compacted", results)
    if uncompacted is not None:
        report("without compaction (the engine's own tree)", uncompacted)


def _spread(values: list[float]) -> str:
    values = sorted(values)
    return f"{values[0]:6.2f} /{statistics.median(values):6.2f} /{values[-1]:6.2f}"


def report(title: str, results: dict[str, list[Result]]) -> None:
    print(f"\n{title}")
    for mode, runs in results.items():
        print(f"  {mode:4}  loop   wall ms/step (min/median/max)   CPU ms/step (min/median/max)   state bytes")
        for k in runs[0]:
            print(f"        {k:5}  {_spread([run[k][0].wall * 1000 for run in runs])}"
                  f"          {_spread([run[k][0].cpu * 1000 for run in runs])}"
                  f"         {statistics.median(run[k][1] for run in runs):8.0f}")
        last = max(runs[0])
        wall = _spread([run[last][0].wall / run[2][0].wall for run in runs])
        cpu = _spread([run[last][0].cpu / run[2][0].cpu for run in runs])
        print(f"        loop {last} / loop 2:  wall {wall}   CPU {cpu}   (target <= 1.5)")


if __name__ == "__main__":
    main()
