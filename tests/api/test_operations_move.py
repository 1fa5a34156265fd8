"""流程干预 through the API: a token moved back to dispatch or past a step, and the moves refused."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Api

REASON = "派错调解室"


def _at_sign_for(api: Api) -> dict[str, Any]:
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    return api.get("admin1", f"/cases/{case['id']}")


def _tasks(api: Api, case_id: int) -> list[dict[str, Any]]:
    return api.get("admin1", f"/cases/{case_id}")["active_tasks"]


def test_a_token_sent_back_to_dispatch_cancels_the_old_task_and_opens_a_new_one_with_its_own_limit(
        api: Api, frozen_clock: Any) -> None:
    case = _at_sign_for(api)
    [sign_for] = case["active_tasks"]
    frozen_clock.advance(timedelta(days=1))
    answer = api.post("supervisor1", f"/process-instances/{case['process_instance_id']}/move",
                      json={"from": "sign_for", "to": "dispatch", "reason": REASON})
    [dispatch] = answer["next_tasks"]
    assert dispatch["name"] == "dispatch" and dispatch["state"] == "open" and dispatch["group"] == "dispatch"
    assert dispatch["due_at"] == "2026-12-04T00:00:00+08:00"  # counted from the move (Wednesday), not registration
    assert answer["case"]["status"] == "registered"
    old = api.get("admin1", f"/tasks/{sign_for['id']}")
    assert old["state"] == "cancelled" and old["completed_at"] is not None
    assert sign_for["case_no"] not in {t["case_no"] for t in api.get("mediator1", "/tasks")["items"]}
    moved = [e for e in api.get("admin1", f"/cases/{case['id']}")["timeline"] if e["action"] == "case.moved"]
    assert moved[0]["detail"] == {"from": "sign_for", "to": "dispatch", "reason": REASON}
    # The case goes on from there as if dispatched for the first time.
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "family", "complexity": "simple"})
    [again] = _tasks(api, case["id"])
    assert (again["name"], again["group"]) == ("sign_for", "family") and again["id"] != sign_for["id"]


def test_a_token_skips_a_step_to_a_later_task(api: Api) -> None:
    case = _at_sign_for(api)
    answer = api.post("admin1", f"/process-instances/{case['process_instance_id']}/move",
                      json={"from": "sign_for", "to": "handle", "reason": "当事人已到场，直接调解"})
    [handle] = answer["next_tasks"]
    assert (handle["name"], handle["group"], handle["due_at"]) == ("handle", "mediation", "2026-12-03T00:00:00+08:00")
    assert answer["case"]["status"] == "handling"
    api.work("mediator1", case["id"], "handle", {"outcome": "resolved"})
    assert [t["name"] for t in _tasks(api, case["id"])] == ["feedback"]  # the route goes on from the new task


def test_moves_that_would_leave_the_process_inconsistent_are_refused_naming_the_elements(api: Api) -> None:
    case = _at_sign_for(api)
    path = f"/process-instances/{case['process_instance_id']}/move"
    unknown = api.post("admin1", path, 422, json={"from": "sign_for", "to": "nowhere", "reason": REASON})
    assert unknown["errors"][0]["field"] == "to" and "nowhere" in unknown["detail"]
    idle = api.post("admin1", path, 422, json={"from": "handle", "to": "dispatch", "reason": REASON})
    assert idle["errors"][0]["field"] == "from" and "handle" in idle["detail"]
    other = api.post("admin1", path, 422, json={"from": "sign_for", "to": "choose_channel", "reason": REASON})
    assert "choose_channel" in other["detail"] and other["errors"][0]["field"] == "to"
    gateway = api.post("admin1", path, 422, json={"from": "sign_for", "to": "gw_accepted", "reason": REASON})
    assert "gw_accepted" in gateway["detail"]
    api.post("admin1", path, 422, json={"from": "sign_for", "to": "dispatch"})
    api.post("mediator1", path, 403, json={"from": "sign_for", "to": "dispatch", "reason": REASON})
    api.post("supervisor2", path, json={"from": "sign_for", "to": "handle", "reason": REASON})  # his township's room
    assert [t["name"] for t in _tasks(api, case["id"])] == ["handle"]
    api.post("admin1", f"/cases/{case['id']}/suspend", json={"reason": "中止"})
    api.post("admin1", path, 409, json={"from": "handle", "to": "dispatch", "reason": REASON})
