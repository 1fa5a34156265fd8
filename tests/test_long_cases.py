"""Long cases: a case returned to dispatch hundreds of times, and one supervised hundreds of times from
overdue boundary events, keeps working and keeps a stored state that does not grow with its history
(app/engine/compaction.py); the history itself stays on the case's timeline (the audit log).

The normal suite drives a few hundred loops; the full lengths of the performance goal (1,000 returns,
500 supervision tasks) are marked `long` and run with
`CONCORD_LONG_CASES=1 make test PYTEST_ARGS="-m long"`.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app.services.kernel import timers
from tests.conftest import Api

LONG = os.environ.get("CONCORD_LONG_CASES") == "1"
long_only = pytest.mark.skipif(not LONG, reason="the full lengths run with CONCORD_LONG_CASES=1 (see the module)")
DISPATCH = {"handling_group": "mediation", "complexity": "general"}
RETURN = {"accepted": False, "return_reason": "不属于本单位职责"}
# Stored states differ by a few bytes from loop to loop (timestamps' digits); history would add ~2.6 KB a loop.
SLACK = 200


def _state_size(app: Any, case_id: int) -> int:
    engine = create_engine(app.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT length(state) FROM process_instances WHERE id = "
                "(SELECT process_instance_id FROM cases WHERE id = :case)"), {"case": case_id}).scalar_one())
    finally:
        engine.dispose()


def _returned_again_and_again(api: Api, app: Any, loops: int) -> None:
    case = api.register(category="neighbor")
    sizes: dict[int, int] = {}
    for loop in range(1, loops + 1):
        api.work("dispatch1", case["id"], "dispatch", DISPATCH)
        returned = api.work("mediator1", case["id"], "sign_for", RETURN)
        assert [t["name"] for t in returned["next_tasks"]] == ["dispatch"], (loop, returned)
        if loop in (5, loops // 2, loops):
            sizes[loop] = _state_size(app, case["id"])
    assert sizes[loops] <= sizes[5] + SLACK and sizes[loops // 2] <= sizes[5] + SLACK, sizes

    # The case goes on as any other: accepted, handled, closed.
    api.work("dispatch1", case["id"], "dispatch", DISPATCH)
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    api.work("mediator1", case["id"], "handle", {"outcome": "resolved"})
    api.work("intake1", case["id"], "feedback", {"satisfied": True})
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert detail["status"] == "closed" and detail["active_tasks"] == []
    completed = [e for e in detail["timeline"] if e["action"] == "task.completed"]
    assert len(completed) == 2 * loops + 4  # the history is the audit log's, not the engine's


def test_a_case_returned_to_dispatch_200_times_keeps_a_flat_state(api: Api, app: Any) -> None:
    _returned_again_and_again(api, app, 200)  # past the 186th loop, where the engine used to give up


@pytest.mark.long
@long_only
def test_a_case_returned_to_dispatch_1000_times_keeps_a_flat_state(api: Api, app: Any) -> None:
    _returned_again_and_again(api, app, 1000)


def _supervised_again_and_again(api: Api, app: Any, frozen_clock: Any, loops: int) -> None:
    """Each loop: dispatch, let sign_for run overdue (the ladder sends the boundary event's message and a
    督办 task opens beside it), complete the 督办 task, return the case to dispatch."""
    case = api.register(category="neighbor")
    sizes: dict[int, int] = {}
    for loop in range(1, loops + 1):
        api.work("dispatch1", case["id"], "dispatch", DISPATCH)
        sign_for = api.task(case["id"], "sign_for")
        frozen_clock.set(datetime.fromisoformat(sign_for["due_at"]) + timedelta(hours=1))
        timers.run_once()
        supervise = api.task(case["id"], "supervise")
        api.post("supervisor1", f"/tasks/{supervise['id']}/claim")
        api.post("supervisor1", f"/tasks/{supervise['id']}/complete",
                 json={"data": {"action": "note", "note": f"第{loop}次督办"}})
        api.work("mediator1", case["id"], "sign_for", RETURN)
        if loop in (5, loops // 2, loops):
            sizes[loop] = _state_size(app, case["id"])
    assert sizes[loops] <= sizes[5] + SLACK and sizes[loops // 2] <= sizes[5] + SLACK, sizes
    timeline = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    assert len([e for e in timeline if e["action"] == "task.overdue"]) >= loops
    assert [t["name"] for t in api.get("admin1", f"/cases/{case['id']}")["active_tasks"]] == ["dispatch"]


def test_a_case_supervised_30_times_from_overdue_boundary_events_keeps_a_flat_state(
        api: Api, app: Any, frozen_clock: Any) -> None:
    _supervised_again_and_again(api, app, frozen_clock, 30)


@pytest.mark.long
@long_only
def test_a_case_supervised_500_times_from_overdue_boundary_events_keeps_a_flat_state(
        api: Api, app: Any, frozen_clock: Any) -> None:
    _supervised_again_and_again(api, app, frozen_clock, 500)
