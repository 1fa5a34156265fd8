"""Every metric and grouping on a small, hand-checked set of cases (see the table in `november`).

Clock: 2026-12-01 09:30 in Shanghai. November's figures are evaluated at its end (12-01 00:00)."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.services.kernel.principals import Principal
from app.services.reports import summary as reports
from tests.reports.conftest import NOVEMBER, SUPERVISOR


def _counts(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures[k] for k in reports.COUNTS}


def _rates(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures[k] for k in reports.RATES}


def test_november_totals_by_hand(november: dict[str, int]) -> None:
    total = reports.summary(SUPERVISOR, NOVEMBER)["total"]
    assert _counts(total) == {"received": 6, "closed": 3, "resolved": 1, "closed_on_time": 2, "open": 3,
                              "overdue_open": 1, "mediated": 5, "agreements": 2, "feedback_visits": 2,
                              "satisfied": 1}
    assert _rates(total) == {"closure_rate": 0.5, "on_time_rate": 0.6667, "resolution_rate": 0.3333,
                             "mediation_success_rate": 0.4, "satisfaction_rate": 0.5}


def test_by_category_with_null_rates_where_nothing_closed(november: dict[str, int]) -> None:
    result = reports.summary(SUPERVISOR, NOVEMBER, "category")
    items = {item["key"]: item for item in result["items"]}
    assert [item["key"] for item in result["items"]] == ["labor", "neighbor", "family", None]
    assert _counts(items["labor"]) == {"received": 2, "closed": 0, "resolved": 0, "closed_on_time": 0, "open": 2,
                                       "overdue_open": 1, "mediated": 2, "agreements": 1, "feedback_visits": 0,
                                       "satisfied": 0}
    assert _rates(items["labor"]) == {"closure_rate": 0.0, "on_time_rate": None, "resolution_rate": None,
                                      "mediation_success_rate": 0.5, "satisfaction_rate": None}
    assert _rates(items["neighbor"]) == {"closure_rate": 1.0, "on_time_rate": 0.5, "resolution_rate": 0.5,
                                         "mediation_success_rate": 0.5, "satisfaction_rate": 0.5}
    assert _counts(items["family"])["closed_on_time"] == 1  # a cancelled task is not a late completion
    assert _counts(items[None]) == {**dict.fromkeys(reports.COUNTS, 0), "received": 1, "open": 1}
    assert result["total"] == reports.summary(SUPERVISOR, NOVEMBER)["total"]


@pytest.mark.parametrize(("group_by", "expected"), [
    ("group", {"mediation": 2, "labor": 2, "family": 1, None: 1}),
    ("source", {"walk_in": 2, "hotline_12345": 2, "police_110": 1, "petition": 1}),
    ("grid", {"G1": 3, "G2": 2, None: 1}),
])
def test_received_by_group_source_and_grid(november: dict[str, int], group_by: str, expected: dict[Any, int]) -> None:
    items = reports.summary(SUPERVISOR, NOVEMBER, group_by)["items"]
    assert {item["key"]: item["received"] for item in items} == expected


def test_group_rates_for_the_ranking(november: dict[str, int]) -> None:
    items = {i["key"]: i for i in reports.summary(SUPERVISOR, NOVEMBER, "group")["items"]}
    assert (items["mediation"]["on_time_rate"], items["mediation"]["resolution_rate"]) == (0.5, 0.5)
    assert (items["family"]["on_time_rate"], items["family"]["resolution_rate"]) == (1.0, 0.0)
    assert items["labor"]["on_time_rate"] is None


def test_a_case_closed_after_the_period_counts_as_open_in_it(november: dict[str, int]) -> None:
    """D was received on 11-28 and closed on 12-01: open in November, absent from December."""
    last_week = reports.summary(SUPERVISOR, reports.Period(date(2026, 11, 24), date(2026, 11, 30)))["total"]
    assert (last_week["received"], last_week["closed"], last_week["open"]) == (2, 0, 2)  # D and F
    assert last_week["feedback_visits"] == 0  # D's visit happened on 12-01
    october = reports.summary(SUPERVISOR, reports.Period(date(2026, 10, 1), date(2026, 10, 31)))["total"]
    assert (october["received"], october["closed"], october["closure_rate"]) == (1, 0, 0.0)  # E closed 11-03


def test_day_boundaries_are_the_centres_midnight(november: dict[str, int]) -> None:
    last_day = reports.summary(SUPERVISOR, reports.Period(date(2026, 11, 30), date(2026, 11, 30)))["total"]
    today = reports.summary(SUPERVISOR, reports.Period(date(2026, 12, 1), date(2026, 12, 1)))["total"]
    assert last_day["received"] == 1  # F at 23:30, though 15:30 UTC
    assert today["received"] == 1  # G at 00:10, though still November 30 in UTC


def test_overdue_in_the_current_period_is_judged_now(november: dict[str, int]) -> None:
    """G's triage was due at 09:00 and it is 09:30: overdue; its dispatch (due 12:00) is not yet."""
    today = reports.summary(SUPERVISOR, reports.Period(date(2026, 12, 1), date(2026, 12, 1)))["total"]
    assert (today["open"], today["overdue_open"]) == (1, 1)


def test_empty_period_has_zero_counts_and_null_rates(november: dict[str, int]) -> None:
    result = reports.summary(SUPERVISOR, reports.Period(date(2026, 6, 1), date(2026, 6, 30)), "category",
                             compare=True)
    assert result["items"] == []
    assert _counts(result["total"]) == dict.fromkeys(reports.COUNTS, 0)
    assert _rates(result["total"]) == dict.fromkeys(reports.RATES)
    assert result["previous"]["from"] == "2026-05-02"


def test_previous_period_for_trends(november: dict[str, int]) -> None:
    week = reports.summary(SUPERVISOR, reports.Period(date(2026, 11, 8), date(2026, 11, 14)), compare=True)
    assert (week["total"]["received"], week["previous"]["total"]["received"]) == (2, 2)  # C, H vs A, B
    assert (week["previous"]["from"], week["previous"]["to"]) == ("2026-11-01", "2026-11-07")


def test_only_supervisors_read_reports(app: Any) -> None:
    from app.errors import Forbidden

    with pytest.raises(Forbidden):
        reports.summary(Principal("x", "x", frozenset({"handler"}), frozenset()), NOVEMBER)


def test_every_visit_counts_and_a_refusal_never_entered_mediation(app: Any) -> None:
    from tests.reports.factories import add_case, at, task

    add_case(created=at(11, 2), category="neighbor", closed=at(11, 20), outcome="resolved", satisfied=True, tasks=(
        task("handle", created=at(11, 3), done=at(11, 5)),
        task("feedback", created=at(11, 5), done=at(11, 6)),  # unsatisfied: reopened once
        task("handle", created=at(11, 7), done=at(11, 10)),
        task("feedback", created=at(11, 10), done=at(11, 19))))
    add_case(created=at(11, 3), category="neighbor", closed=at(11, 8), outcome="mediation_refused", satisfied=True,
             tasks=(task("handle", created=at(11, 3), done=at(11, 4)), task("feedback", created=at(11, 4),
                                                                             done=at(11, 8))))
    total = reports.summary(SUPERVISOR, NOVEMBER)["total"]
    assert (total["feedback_visits"], total["satisfied"], total["satisfaction_rate"]) == (3, 2, 0.6667)
    assert (total["mediated"], total["agreements"], total["mediation_success_rate"]) == (1, 1, 1.0)
