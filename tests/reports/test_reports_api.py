"""The reports over HTTP: the summary contract of api.md, the three reports, downloads and charts."""
from __future__ import annotations

import csv
import io
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook

NOV = "from=2026-11-01&to=2026-11-30"


def test_summary_follows_the_contract(api: Any, november: dict[str, int]) -> None:
    body = api.get("supervisor1", f"/reports/summary?{NOV}&group_by=category")
    assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-30")
    fields = {"received", "closed", "resolved", "closed_on_time", "open", "overdue_open", "closure_rate",
              "resolution_rate", "on_time_rate", "mediation_success_rate", "satisfaction_rate"}
    assert fields <= set(body["total"]) and all(fields <= set(item) for item in body["items"])
    assert body["items"][0]["key"] == "labor" and body["items"][0]["on_time_rate"] is None
    assert body["total"]["closure_rate"] == 0.5


def test_bad_parameters_are_field_errors(api: Any) -> None:
    cases = {"from=2026-13-01": "from", "from=2026-12-02&to=2026-12-01": "from", "group_by=colour": "group_by",
             "from=2020-01-01&to=2026-01-01": "to"}
    for query, field in cases.items():
        body = api.get("supervisor1", f"/reports/summary?{query}", 422)
        assert [e["field"] for e in body["errors"]] == [field], query
    assert api.get("supervisor1", "/reports/ranking?month=2026-13", 422)["errors"][0]["field"] == "month"
    assert api.get("supervisor1", "/reports/daily?date=yesterday", 422)["errors"][0]["field"] == "date"


def test_officers_cannot_read_reports(api: Any) -> None:
    api.get("intake1", "/reports/summary", 403)
    api.get("mediator1", "/reports/summary.csv", 403)


def test_daily_list(api: Any, november: dict[str, int]) -> None:
    today = api.get("supervisor1", "/reports/daily")
    assert today["date"] == "2026-12-01"
    assert today["new"]["total"] == 1  # G
    assert [t["name"] for t in today["due_today"]["items"]] == ["triage", "dispatch"]
    overdue = {t["name"]: t["overdue_seconds"] for t in today["overdue"]["items"]}
    assert overdue == {"handle": 5 * 86400 + 16 * 3600 + 30 * 60, "triage": 30 * 60}  # C's handle, G's triage


def test_weekly_analysis_with_trends(api: Any, november: dict[str, int]) -> None:
    week = api.get("supervisor1", "/reports/weekly?from=2026-11-08&to=2026-11-14")
    assert week["previous_period"] == {"from": "2026-11-01", "to": "2026-11-07"}
    assert (week["total"]["received"], week["total"]["previous"]["received"]) == (2, 2)
    assert set(week["dimensions"]) == {"category", "group", "source", "grid", "case_type"}
    labor = next(i for i in week["dimensions"]["category"] if i["key"] == "labor")
    assert (labor["received"], labor["previous"]["received"], labor["change"]["received"]) == (1, 0, 1)
    assert [d["received"] for d in week["daily"]] == [0, 0, 1, 0, 1, 0, 0]  # C on 11-10, H on 11-12
    assert [d["previous_received"] for d in week["daily"]] == [0, 1, 0, 0, 1, 0, 0]  # A on 11-02, B on 11-05


def test_monthly_ranking_by_on_time_then_resolution(api: Any, november: dict[str, int]) -> None:
    ranking = api.get("supervisor1", "/reports/ranking?month=2026-11")
    assert [(i["rank"], i["key"]) for i in ranking["items"]] == [(1, "family"), (2, "mediation"), (3, "labor")]
    assert ranking["unassigned"]["received"] == 1  # F, not yet dispatched
    assert api.get("supervisor1", "/reports/ranking")["month"] == "2026-11"  # the last complete month


def test_csv_and_excel_downloads(api: Any, november: dict[str, int]) -> None:
    headers = api.headers("supervisor1")
    response = api.client.get(f"/api/v1/reports/summary.csv?{NOV}&group_by=category", headers=headers)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["类别", "受理量", "办结量"]
    assert rows[1][:2] == ["劳动人事争议 (labor)", "2"] and rows[-1][:2] == ["合计", "6"]
    for name in ("summary", "daily", "weekly", "ranking"):
        response = api.client.get(f"/api/v1/reports/{name}.xlsx?month=2026-11", headers=headers)
        assert response.status_code == 200, name
        workbook = load_workbook(io.BytesIO(response.data))
        assert workbook.worksheets and workbook.worksheets[0].max_row >= 1
    ranking = load_workbook(io.BytesIO(api.client.get("/api/v1/reports/ranking.xlsx?month=2026-11",
                                                      headers=headers).data)).worksheets[0]
    assert [c.value for c in ranking[2]][:3] == [1, "婚姻家事调解室 (family)", 1]
    assert api.client.get("/api/v1/reports/secret.csv", headers=headers).status_code == 404


def test_charts_are_svg(api: Any, november: dict[str, int]) -> None:
    headers = api.headers("supervisor1")
    for path in (f"summary.svg?{NOV}&group_by=group&metric=on_time_rate", "daily.svg?from=2026-11-24&to=2026-11-30",
                 "summary.svg?from=2026-06-01&to=2026-06-30&group_by=category"):
        response = api.client.get(f"/api/v1/reports/charts/{path}", headers=headers)
        assert response.status_code == 200 and response.mimetype == "image/svg+xml", path
        assert ElementTree.fromstring(response.data).tag == "{http://www.w3.org/2000/svg}svg"
    bars = api.client.get(f"/api/v1/reports/charts/summary.svg?{NOV}&group_by=group&metric=on_time_rate",
                          headers=headers).data.decode()
    assert "50.0%" in bars and "100.0%" in bars
    assert api.client.get("/api/v1/reports/charts/summary.svg?metric=x", headers=headers).status_code == 422


def test_a_case_through_the_route_is_counted(api: Any) -> None:
    """The projection's own rows (not the factory's) feed the same figures."""
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    api.work("mediator1", case["id"], "handle", {"outcome": "resolved"})
    api.work("intake1", case["id"], "feedback", {"satisfied": True})
    total = api.get("supervisor1", "/reports/summary?from=2026-12-01&to=2026-12-01")["total"]
    assert {k: total[k] for k in ("received", "closed", "resolved", "closed_on_time", "mediated", "agreements",
                                  "feedback_visits", "satisfied")} == dict.fromkeys(
        ("received", "closed", "resolved", "closed_on_time", "mediated", "agreements", "feedback_visits",
         "satisfied"), 1)
