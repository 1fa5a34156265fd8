"""The hand-checked November of the report tests (clock: 2026-12-01 09:30 in Shanghai)."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.services.kernel.principals import Principal
from app.services.reports import summary as reports
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
