"""Every metric and grouping on a small, hand-checked set of cases (see the table in `november`).

Clock: 2026-12-01 09:30 in Shanghai. November's figures are evaluated at its end (12-01 00:00)."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.services import reports
from app.services.auth import Principal
from tests.reports.factories import add_case, at, task

SUPERVISOR = Principal("sup", "督办", frozenset({"supervisor"}), frozenset())
NOVEMBER = reports.Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def november(app: Any) -> dict[str, int]:
    """   received  closed         outcome            on time  mediated  visit      notes
    A     11-02     11-15          resolved           yes      handle    satisfied
    B     11-05     11-20          mediation_failed   no       handle    unsatisfied  handle done 2 days late
    C     11-10     -              -                  -        handle    -            handle open, due 11-25: overdue
    D     11-28     12-01 (Dec)    resolved           -        handle    12-01 (Dec)  open at November's end
    E     10-30     11-03          -                  -        -         -            received in October
    F     11-30 23:30 (15:30 UTC)  -                  -        -         -            no category, no tasks
    G     12-01 00:10 (Nov 30 16:10 UTC)                                              received in December
    H     11-12     11-20          withdrawn          yes      procedure -            sign_for cancelled after due
    """
    return {
        "A": add_case(created=at(11, 2), category="neighbor", group="mediation", grid="G1", closed=at(11, 15),
                      outcome="resolved", satisfied=True, tasks=(
                          task("dispatch", created=at(11, 2), due=at(11, 3, 17), done=at(11, 3, 9)),
                          task("handle", created=at(11, 3, 9), due=at(11, 10, 17), done=at(11, 9)),
                          task("feedback", created=at(11, 9), due=at(11, 16, 17), done=at(11, 15)))),
        "B": add_case(created=at(11, 5), category="neighbor", group="mediation", source="hotline_12345", grid="G1",
                      closed=at(11, 20), outcome="mediation_failed", satisfied=False, tasks=(
                          task("dispatch", created=at(11, 5), due=at(11, 6, 17), done=at(11, 6)),
                          task("handle", created=at(11, 6), due=at(11, 10, 17), done=at(11, 12)),
                          task("feedback", created=at(11, 12), due=at(11, 19, 17), done=at(11, 19)))),
        "C": add_case(created=at(11, 10), category="labor", group="labor", source="police_110", grid="G2", tasks=(
            task("dispatch", created=at(11, 10), due=at(11, 11, 17), done=at(11, 11)),
            task("handle", created=at(11, 11), due=at(11, 25, 17)))),
        "D": add_case(created=at(11, 28), category="labor", group="labor", source="hotline_12345", grid="G2",
                      closed=at(12, 1, 8), outcome="resolved", satisfied=True, tasks=(
                          task("dispatch", created=at(11, 28), due=at(11, 30, 17), done=at(11, 28, 15)),
                          task("handle", created=at(11, 28, 15), due=at(12, 4, 17), done=at(11, 29)),
                          task("feedback", created=at(11, 29), due=at(12, 5, 17), done=at(12, 1, 8)))),
        "E": add_case(created=at(10, 30), category="labor", group="labor", closed=at(11, 3), outcome="resolved"),
        "F": add_case(created=at(11, 30, 23, 30)),
        "G": add_case(created=at(12, 1, 0, 10), category="family", group="family", tasks=(
            task("triage", created=at(12, 1, 0, 10), due=at(12, 1, 9)),
            task("dispatch", created=at(12, 1, 0, 10), due=at(12, 1, 12)))),
        "H": add_case(created=at(11, 12), category="family", group="family", source="petition", grid="G1",
                      closed=at(11, 20), outcome="withdrawn", procedure="mediation", procedure_since=at(11, 13),
                      tasks=(task("sign_for", created=at(11, 12), due=at(11, 13, 17), done=at(11, 14),
                                  state="cancelled"),)),
    }


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
