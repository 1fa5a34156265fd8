"""Whole cases driven through the API as the demo users would, through every branch of the route."""
from __future__ import annotations

import pytest

from tests.conftest import Api


def _open_names(api: Api, case_id: int) -> list[str]:
    return [t["name"] for t in api.get("admin1", f"/cases/{case_id}")["active_tasks"]]


def test_unclassified_case_goes_through_triage_dispatch_mediation_feedback_to_closed(api: Api) -> None:
    case = api.register()
    assert case["case_no"].startswith("ZZ-2026-") and case["status"] == "registered"
    assert [t["name"] for t in case["active_tasks"]] == ["triage"]
    api.work("intake1", case["id"], "triage", {"category": "neighbor", "risk_level": "low"})
    dispatch = api.task(case["id"], "dispatch")
    prefill = api.get("dispatch1", f"/tasks/{dispatch['id']}")["data"]
    assert prefill == {"handling_group": "mediation", "complexity": "simple"}  # from the routing table
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    assert api.get("admin1", f"/cases/{case['id']}")["status"] == "dispatched"
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert detail["status"] == "handling" and detail["procedure"] == "mediation"
    api.work("mediator1", case["id"], "handle", {"outcome": "resolved", "agreement_summary": "赔偿500元"})
    assert _open_names(api, case["id"]) == ["feedback"]
    result = api.work("intake1", case["id"], "feedback", {"satisfied": True, "visit_method": "phone"})
    assert result["case"]["status"] == "closed" and result["next_tasks"] == []
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert detail["outcome"] == "resolved" and detail["satisfied"] is True and detail["closed_at"]
    completed = [e["detail"]["task"] for e in detail["timeline"] if e["action"] == "task.completed"]
    assert completed == ["triage", "dispatch", "sign_for", "handle", "feedback"]
    assert detail["timeline"][-1]["action"] == "case.closed"


def test_classified_case_skips_triage_and_lands_in_the_routed_group(api: Api) -> None:
    case = api.register(category="labor")
    assert [t["name"] for t in case["active_tasks"]] == ["dispatch"]
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    sign_for = api.task(case["id"], "sign_for")
    assert sign_for["group"] == "labor"
    inbox = api.get("labor1", "/tasks?scope=group")["items"]
    assert [t["id"] for t in inbox] == [sign_for["id"]]
    assert api.get("mediator1", "/tasks?scope=group")["items"] == []


def test_returned_case_goes_back_to_dispatch_with_the_reason(api: Api) -> None:
    case = api.register(category="labor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "family", "complexity": "general"})
    api.work("family1", case["id"], "sign_for", {"accepted": False, "return_reason": "不属于婚姻家事，应转劳动争议"})
    assert _open_names(api, case["id"]) == ["dispatch"]
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert detail["status"] == "registered"
    returns = [e for e in detail["timeline"] if e["action"] == "task.completed" and e["detail"]["task"] == "sign_for"]
    assert returns[0]["detail"]["data"]["return_reason"] == "不属于婚姻家事，应转劳动争议"
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    assert api.task(case["id"], "sign_for")["group"] == "labor"


def test_unsatisfied_visit_reopens_once_then_closes(api: Api) -> None:
    case = api.register(category="neighbor")
    for round_ in range(2):
        api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
        api.work("mediator1", case["id"], "sign_for", {"accepted": True})
        api.work("mediator1", case["id"], "handle", {"outcome": "resolved"})
        visit = {"satisfied": False, "visit_note": f"第{round_ + 1}次不满意"}
        result = api.work("intake1", case["id"], "feedback", visit)
        if round_ == 0:
            assert [t["name"] for t in result["next_tasks"]] == ["dispatch"]
            assert api.get("admin1", f"/cases/{case['id']}")["reopen_count"] == 1
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert detail["status"] == "closed" and detail["satisfied"] is False and detail["reopen_count"] == 1


def test_failed_mediation_is_recorded_and_goes_onto_the_roadmap_not_silently_closed(api: Api) -> None:
    case = api.register(category="contract")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "general"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    result = api.work("mediator1", case["id"], "handle", {"outcome": "mediation_failed"})
    assert [(t["name"], t["group"]) for t in result["next_tasks"]] == [("choose_channel", "mediation")]
    assert result["case"]["outcome"] == "mediation_failed" and result["case"]["status"] == "in_channel"


def test_withdrawn_case_goes_to_feedback_and_closes(api: Api) -> None:
    case = api.register(category="damages")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "general"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    result = api.work("mediator1", case["id"], "handle", {"outcome": "withdrawn"})
    assert [t["name"] for t in result["next_tasks"]] == ["feedback"]
    closed = api.work("intake1", case["id"], "feedback", {"satisfied": True})
    assert closed["case"]["status"] == "closed" and closed["case"]["outcome"] == "withdrawn"


def test_a_step_writes_the_same_case_row_whether_its_process_was_cached_or_loaded(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached process knows its case row and writes only what changed; a loaded one writes every
    decision field. Both must leave the same row, step after step, through reopening and the roadmap."""
    from app.services.kernel import instances, queries

    narrow = []
    write_columns = queries.write_case_columns
    monkeypatch.setattr(queries, "write_case_columns", lambda conn, case_id, changed, now: narrow.append(
        tuple(sorted(changed))) or write_columns(conn, case_id, changed, now))

    steps = [("intake1", "triage", {"category": "contract"}),
             ("dispatch1", "dispatch", {"handling_group": "mediation", "complexity": "general"}),
             ("mediator1", "sign_for", {"accepted": True}), ("mediator1", "handle", {"outcome": "mediation_failed"}),
             ("mediator1", "choose_channel", {"channel": "litigation", "parties_informed": True}),
             ("dispatch1", "track_channel", {"channel_result": "resolved"}),
             ("intake1", "feedback", {"satisfied": False}),
             ("dispatch1", "dispatch", {"handling_group": "mediation", "complexity": "simple"}),
             ("mediator1", "sign_for", {"accepted": True}), ("mediator1", "handle", {"outcome": "resolved"}),
             ("intake1", "feedback", {"satisfied": True})]
    cached, loaded = api.register(), api.register()
    loaded_instance = api.get("admin1", f"/cases/{loaded['id']}")["process_instance_id"]
    for user, name, data in steps:
        after_cached = api.work(user, cached["id"], name, data)["case"]
        instances.cache.forget(loaded_instance)
        after_loaded = api.work(user, loaded["id"], name, data)["case"]
        ignore = ("id", "case_no", "process_instance_id")
        assert {k: v for k, v in after_cached.items() if k not in ignore} == \
               {k: v for k, v in after_loaded.items() if k not in ignore}, name
        full_cached, full_loaded = (api.get("admin1", f"/cases/{case['id']}") for case in (cached, loaded))
        for field in ("status", "procedure", "procedure_since", "outcome", "reopen_count", "handling_group",
                      "complexity", "category", "satisfied", "closed_at"):
            assert full_cached.get(field) == full_loaded.get(field), (name, field)
    assert after_cached["status"] == "closed"
    assert len(narrow) == len(steps)  # every step of the cached case took the narrow path
