"""Two officers at once, and a crash half-way: the case, the inbox and the audit log never disagree."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from app.services.accounts import users
from app.services.kernel import projection
from tests.conftest import Api


def _race(app: Any, api: Api, users: list[str], path: str, body: dict[str, Any]) -> list[int]:
    headers = {user: api.headers(user) for user in users}
    barrier = threading.Barrier(len(users))
    statuses: list[int] = []

    def attempt(user: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(path, json=body, headers=headers[user]).status_code)

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_two_officers_claiming_at_once_one_wins(app: Any, api: Api) -> None:
    users.upsert_user("dispatch2", "test-password-1", display_name="调度员二", roles=["handler"], groups=["dispatch"])
    for _ in range(5):
        case = api.register(category="labor")
        task = api.task(case["id"], "dispatch")
        assert _race(app, api, ["dispatch1", "dispatch2"], f"/api/v1/tasks/{task['id']}/claim", {}) == [200, 409]


def test_two_completions_of_the_same_task_exactly_one_succeeds(app: Any, api: Api) -> None:
    # Both hold the task in turn is impossible, so race the same user on two connections: the
    # classic double-submit. Exactly one completion may advance the case.
    data = {"data": {"handling_group": "labor", "complexity": "general"}}
    for _ in range(5):
        case = api.register(category="labor")
        task = api.task(case["id"], "dispatch")
        api.post("dispatch1", f"/tasks/{task['id']}/claim")
        statuses = _race(app, api, ["dispatch1", "dispatch1"], f"/api/v1/tasks/{task['id']}/complete", data)
        assert statuses == [200, 409]
        detail = api.get("admin1", f"/cases/{case['id']}")
        completions = [e for e in detail["timeline"] if e["action"] == "task.completed"]
        assert len(completions) == 1
        assert [t["name"] for t in detail["active_tasks"]] == ["sign_for"]


def test_a_claim_racing_a_completion_never_lets_both_through(app: Any, api: Api) -> None:
    # The completion reads the task row and locks it with its instance in one statement; after waiting
    # for the claim it must see the claim's assignee (PostgreSQL re-reads locked rows), never the row
    # as its snapshot had it.
    users.upsert_user("dispatch2", "test-password-1", display_name="调度员二", roles=["handler"], groups=["dispatch"])
    data = {"data": {"handling_group": "labor", "complexity": "general"}}
    headers = {user: api.headers(user) for user in ("dispatch1", "dispatch2")}
    for _ in range(5):
        case = api.register(category="labor")
        task = api.task(case["id"], "dispatch")
        barrier = threading.Barrier(2)
        statuses: dict[str, int] = {}

        def attempt(user: str, path: str, body: dict[str, Any], barrier: threading.Barrier,
                    statuses: dict[str, int]) -> None:
            client = app.test_client()
            barrier.wait()
            statuses[path.rsplit("/", 1)[1]] = client.post(path, json=body, headers=headers[user]).status_code

        path = f"/api/v1/tasks/{task['id']}"
        threads = [threading.Thread(target=attempt, args=("dispatch2", f"{path}/claim", {}, barrier, statuses)),
                   threading.Thread(target=attempt, args=("dispatch1", f"{path}/complete", data, barrier, statuses))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses.values()) == [200, 409], statuses
        detail = api.get("admin1", f"/cases/{case['id']}")
        completed = [e for e in detail["timeline"] if e["action"] == "task.completed"]
        if statuses["complete"] == 200:
            assert [e["actor"] for e in completed] == ["dispatch1"]
            assert [t["name"] for t in detail["active_tasks"]] == ["sign_for"]
        else:
            assert completed == []
            [held] = detail["active_tasks"]
            assert held["name"] == "dispatch" and held["assignee"] == "dispatch2"


def test_crash_after_the_engine_moved_leaves_nothing_half_written(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    case = api.register(category="labor")
    task = api.task(case["id"], "dispatch")
    api.post("dispatch1", f"/tasks/{task['id']}/claim")
    real_sync = projection.sync

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("power cut")

    monkeypatch.setattr(projection, "sync", crash)
    data = {"data": {"handling_group": "labor", "complexity": "general"}}
    problem = api.post("dispatch1", f"/tasks/{task['id']}/complete", expect=500, json=data)
    assert "stack" not in str(problem).lower() and problem["status"] == 500
    monkeypatch.setattr(projection, "sync", real_sync)

    detail = api.get("admin1", f"/cases/{case['id']}")
    assert [t["id"] for t in detail["active_tasks"]] == [task["id"]]
    assert not [e for e in detail["timeline"] if e["action"] == "task.completed"]
    # The half-advanced workflow was thrown away: completing again works from the saved state.
    result = api.post("dispatch1", f"/tasks/{task['id']}/complete", json=data)
    assert [t["name"] for t in result["next_tasks"]] == ["sign_for"]
