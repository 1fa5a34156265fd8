"""Possible duplicates are flagged at intake and shown on the case, never blocking registration."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

ZHANG = {"name": "张三", "role": "applicant", "phone": "13800138000", "id_number": "11010519491231002X"}


def _register(api: Any, category: str | None, **party: Any) -> Any:
    applicant = {key: value for key, value in {**ZHANG, **party}.items() if value is not None}
    fields: dict[str, Any] = {"parties": [applicant]}
    if category:
        fields["category"] = category
    return api.register(**fields)


def test_same_phone_and_category_within_30_days_is_flagged_but_registered(api: Any, frozen_clock: Any) -> None:
    first = _register(api, "neighbor")
    frozen_clock.advance(timedelta(days=29))
    second = _register(api, "neighbor", id_number=None)
    shown = api.get("admin1", f"/cases/{second['id']}")["possible_duplicates"]
    assert [(d["case_no"], d["matched_on"]) for d in shown] == [(first["case_no"], "phone")]
    assert api.get("admin1", f"/cases/{first['id']}")["possible_duplicates"] == []


def test_id_number_match_is_preferred_over_phone(api: Any) -> None:
    first = _register(api, "labor")
    second = _register(api, "labor")
    shown = api.get("admin1", f"/cases/{second['id']}")["possible_duplicates"]
    assert [(d["case_id"], d["matched_on"]) for d in shown] == [(first["id"], "id_number")]


def test_other_category_older_cases_and_respondents_are_not_flagged(api: Any, frozen_clock: Any) -> None:
    _register(api, "neighbor")
    frozen_clock.advance(timedelta(days=31))
    _register(api, "labor")  # the 30-day-old neighbour case is out of the window; labour is another category
    respondent_case = api.register(category="labor", parties=[
        {"name": "李四", "role": "applicant", "phone": "13900139000"},
        {"name": "张三", "role": "respondent", "phone": ZHANG["phone"]}])
    third = _register(api, "family")
    for case in (respondent_case, third):
        assert api.get("admin1", f"/cases/{case['id']}")["possible_duplicates"] == []


def test_case_without_category_is_not_compared(api: Any) -> None:
    _register(api, None)
    second = _register(api, None)
    assert api.get("admin1", f"/cases/{second['id']}")["possible_duplicates"] == []


def test_imported_work_orders_are_compared_by_when_their_source_received_them(api: Any, frozen_clock: Any) -> None:
    from app import clock
    from app.services.intake import cases
    from app.services.kernel.principals import Principal

    feed = Principal("import:12345", "12345", frozenset({"integration"}), frozenset())
    now = clock.now()

    def imported(number: str, days_ago: int) -> dict[str, Any]:
        body = {"title": "噪音", "description": "夜间噪音", "source": "hotline_12345", "external_id": number,
                "category": "neighbor", "parties": [ZHANG]}
        case, _ = cases.register(feed, body, now - timedelta(days=days_ago))
        return case

    old = imported("GD-OLD", 45)
    recent = imported("GD-RECENT", 10)  # 35 days after the old one: out of its window
    assert api.get("admin1", f"/cases/{recent['id']}")["possible_duplicates"] == []
    window = _register(api, "neighbor")  # today: the recent work order is 10 days old, the old one 45
    shown = api.get("admin1", f"/cases/{window['id']}")["possible_duplicates"]
    assert [d["case_no"] for d in shown] == [recent["case_no"]] and old["case_no"] != recent["case_no"]


def test_an_earlier_case_the_caller_may_not_see_is_not_named(api: Any) -> None:
    first = _register(api, "family")
    api.work("dispatch1", first["id"], "dispatch", {"handling_group": "family", "complexity": "simple"})
    second = _register(api, "family")
    api.work("dispatch1", second["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    assert api.get("mediator1", f"/cases/{second['id']}")["possible_duplicates"] == []
    api.get("mediator1", f"/cases/{first['id']}", expect=404)
    shown = api.get("family1", f"/cases/{first['id']}")["possible_duplicates"]
    assert shown == []  # the earlier case has no earlier one
    assert [d["case_id"] for d in api.get("dispatch1", f"/cases/{second['id']}")["possible_duplicates"]] == [
        first["id"]]
