"""One policy decides what a person may do with a task; services enforce it and pages show its flags."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from app.services.kernel import policy
from app.services.kernel.principals import Principal
from tests.conftest import Api

MEDIATOR = Principal("mediator1", "调解员", frozenset({"handler"}), frozenset({"mediation"}))
ADMIN = Principal("admin1", "管理员", frozenset({"admin"}), frozenset())
SUPERVISOR = Principal("supervisor1", "督办", frozenset({"supervisor"}), frozenset({"supervisor"}))


def _task(**fields: Any) -> Any:
    return SimpleNamespace(**{"state": "open", "group_name": "mediation", "assignee": None, "escalation_level": 0,
                              **fields})


def test_members_and_admins_may_claim_an_unclaimed_task_others_may_not() -> None:
    assert policy.can_claim(MEDIATOR, _task()) and policy.can_claim(ADMIN, _task())
    assert not policy.can_claim(SUPERVISOR, _task())
    assert not policy.can_claim(MEDIATOR, _task(assignee="someone"))
    assert not policy.can_claim(MEDIATOR, _task(state="completed"))


def test_only_the_holder_may_give_a_task_back_and_only_late_open_tasks_may_be_urged() -> None:
    assert policy.can_unclaim(MEDIATOR, _task(assignee="mediator1"))
    assert not policy.can_unclaim(MEDIATOR, _task(assignee="other"))
    assert not policy.can_urge(SUPERVISOR, _task())
    assert policy.can_urge(SUPERVISOR, _task(escalation_level=2))
    assert not policy.can_urge(MEDIATOR, _task(escalation_level=2))
    assert not policy.can_list(SUPERVISOR, _task(escalation_level=3))


def test_inbox_items_carry_what_the_caller_may_do_and_the_service_agrees(api: Api) -> None:
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    item = next(t for t in api.get("mediator1", "/tasks?scope=group")["items"] if t["case_id"] == case["id"])
    assert item["can_claim"] and item["can_complete"] and not item["can_unclaim"]
    admin_view = api.get("admin1", f"/tasks/{item['id']}")
    assert admin_view["can_claim"]  # the pages once forgot that admins may claim
    api.post("admin1", f"/tasks/{item['id']}/claim")
    again = api.get("mediator1", f"/tasks/{item['id']}")
    assert not again["can_claim"] and not again["can_complete"]
    api.post("mediator1", f"/tasks/{item['id']}/claim", expect=409)
