"""Throughput of the dispute route: the raw engine in memory vs Concord's service layer with persistence.

Both drive the same cases through `dispute_case` (registered with a category: dispatch, sign_for,
handle, feedback, closed). Concord commits every step with its inbox projection, timers and audit log,
exactly as the API does, to a SQLite file in WAL mode by default (synchronous as configured,
CONCORD_SQLITE_SYNCHRONOUS: FULL syncs every commit to disk, NORMAL only at checkpoints) or to
CONCORD_BENCH_DATABASE_URL.

Four sides, in alternating batches within every round so that all meet the same machine:
- raw SpiffWorkflow with its default script engine (the historic comparison),
- raw SpiffWorkflow with Concord's script engine (app.engine.scripts: the fair comparison; Concord
  checks and compiles every expression, which costs the raw engine too),
- Concord warm: the workflow cache hits (one process takes every step of its cases),
- Concord cold: the workflow cache is emptied before every step, so each step loads the workflow from
  the database (what several workers see when a case's steps are hours apart).

    .venv/bin/python bench/lifecycle.py [--cases N] [--rounds N] [--database-url URL]

Prints cases/s for each side and the ratios to the raw engine with the same script engine (median of the
rounds' ratios); the targets: SQLite warm >= 0.5, cold >= 0.4; PostgreSQL >= 0.3.
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

ROOT = Path(__file__).resolve().parent.parent
# The project first, and this folder only as the package `bench` (a script's own folder on the path lets
# a module here hide a standard one of the same name).
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

STEPS = (
    ("dispatch", "dispatch1", {"handling_group": "mediation", "complexity": "simple"}),
    ("sign_for", "mediator1", {"accepted": True}),
    ("handle", "mediator1", {"outcome": "resolved"}),
    ("feedback", "intake1", {"satisfied": True}),
)
START = {"source": "walk_in", "category": "neighbor", "urgency": "normal", "amount": None,
         "risk_level": None, "willing_to_mediate": True}
CASE = {"title": "基准测试案件", "description": "邻里纠纷基准", "source": "walk_in", "category": "neighbor",
        "parties": [{"name": "张三", "role": "applicant", "phone": "13800138000"}]}


def raw_engine(script_engine: object = None) -> Callable[[int], None]:
    """A runner of `n` cases through the raw engine in memory (the spec parsed once, as a host would),
    with SpiffWorkflow's default script engine or the one given."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files(sorted(str(p) for p in (ROOT / "processes").glob("*.bpmn")))
    parser.add_dmn_files(sorted(str(p) for p in (ROOT / "processes").glob("*.dmn")))
    spec, subs = parser.get_spec("dispute_case"), parser.get_subprocess_specs("dispute_case")
    numbers = count()

    def run(cases: int) -> None:
        for _ in range(cases):
            n = next(numbers)
            workflow = BpmnWorkflow(spec, subs, script_engine=script_engine)
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(START, case_id=n, case_no=f"ZZ-{n}")
            workflow.do_engine_steps()
            for name, _user, data in STEPS:
                [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
                assert task.task_spec.bpmn_id == name
                task.data.update(data)
                task.run()
                workflow.refresh_timers()
                workflow.do_engine_steps()
            assert workflow.is_completed()

    return run


def concord(url: str, cold: bool = False) -> Callable[[int], None]:
    """A runner of `n` cases through Concord's services on the database at `url` (migrated, the routes
    deployed and the demo users seeded first, once). `cold`: every step loads its workflow from the database."""
    from app import create_app
    from app.services import demo
    from app.services.designer import deployments
    from app.services.inbox import tasks
    from app.services.intake import cases as case_service
    from app.services.kernel import instances
    from app.services.kernel.principals import Principal, find_principal
    from app.services.operations import schema

    if not _prepared:
        schema.upgrade(url)
        create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        operator = Principal("bench", "bench", frozenset({"admin"}), frozenset())
        files = {p.name: p.read_bytes() for d in ("processes", "forms") for p in (ROOT / d).iterdir()}
        deployments.deploy(operator, files)
        demo.seed_users("bench-password")
        _prepared.append(url)
    users = {name: find_principal(name) for name in ("intake1", "dispatch1", "mediator1")}
    numbers = count(10**7 if cold else 0)

    def run(cases: int) -> None:
        for _ in range(cases):
            n = next(numbers)
            # A different applicant each time, as at a real window (repeat callers are flagged as duplicates).
            body = {**CASE, "parties": [{"name": "张三", "role": "applicant", "phone": f"139{n % 10**8:08d}"}]}
            case, _created = case_service.register(users["intake1"], body)
            next_tasks = case["active_tasks"]
            for name, user, data in STEPS:
                [task] = next_tasks
                assert task["name"] == name
                if cold:
                    instances.cache.clear()
                result = tasks.complete(users[user], task["id"], data)
                next_tasks = result["next_tasks"]
            assert result["case"]["status"] == "closed"

    return run


_prepared: list[str] = []


def timed(run: Callable[[int], None], cases: int) -> float:
    began = time.perf_counter()
    run(cases)
    return time.perf_counter() - began


BATCH = 20  # cases per side before switching


def _batches(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


SIDES = ("raw, default script engine", "raw, Concord's script engine", "Concord warm (cache hit)",
         "Concord cold (loads every step)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("CONCORD_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    from app.engine.scripts import SCRIPT_ENGINE

    rates: list[list[float]] = [[] for _ in SIDES]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        runs = [raw_engine(), raw_engine(SCRIPT_ENGINE), concord(url), concord(url, cold=True)]
        for run in runs:
            run(10)  # warm up imports and caches
        for _ in range(args.rounds):
            # Each round alternates batches of every side, so that all meet the same machine: the speed
            # of these virtual machines drifts by 10 % and more within a minute, which separate runs
            # would record as a difference between the sides.
            seconds = [0.0] * len(SIDES)
            for batch in _batches(args.cases, BATCH):
                for n, run in enumerate(runs):
                    gc.collect()  # each side starts without the others' garbage
                    seconds[n] += timed(run, batch)
            for n in range(len(SIDES)):
                rates[n].append(args.cases / seconds[n])
    from app.runtime import settings

    store = f"SQLite (file, WAL, synchronous={settings['SQLITE_SYNCHRONOUS']})" if not args.database_url \
        else args.database_url.split("://")[0]
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, {store}")
    print(f"route: dispute_case, {len(STEPS)} human tasks per case, {args.cases} cases x {args.rounds} rounds "
          f"(median; min-max), {len(STEPS) + 1} transactions per Concord case")
    for side, values in zip(SIDES, rates, strict=True):
        median = statistics.median(values)
        print(f"{side:<33}: {median:8.1f} cases/s ({1000 / median:6.2f} ms/case; {min(values):.1f}-{max(values):.1f})")

    def ratio(ours: int, raw: int) -> str:
        values = [o / r for o, r in zip(rates[ours], rates[raw], strict=True)]
        return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"

    print(f"ratio warm / raw (same script engine)   : {ratio(2, 1)}")
    print(f"ratio cold / raw (same script engine)   : {ratio(3, 1)}")
    print(f"ratio warm / raw (default script engine): {ratio(2, 0)}")


if __name__ == "__main__":
    main()
