"""Report pages: supervisors read the summary with its chart, the daily list, the weekly analysis and the
ranking, and download each; others may not."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, Api


def _login(client: Any, username: str) -> None:
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_supervisor_reads_every_report_with_charts_and_downloads(api: Api, client: Any) -> None:
    api.register(category="labor")
    api.register(category="neighbor", source="grid")
    _login(client, "supervisor1")
    summary = client.get("/reports?view=summary&from=2026-12-01&to=2026-12-01&group_by=category")
    html = summary.get_data(as_text=True)
    assert summary.status_code == 200 and "<svg" in html and "劳动人事争议" in html and "受理量" in html
    for view in ("daily", "weekly", "ranking"):
        page = client.get(f"/reports?view={view}")
        assert page.status_code == 200, view
    weekly = client.get("/reports?view=weekly&from=2026-11-25&to=2026-12-01").get_data(as_text=True)
    assert "<svg" in weekly and "每日受理" in weekly
    csv = client.get("/reports/summary.csv?from=2026-12-01&to=2026-12-01&group_by=source")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "网格员上报" in csv.get_data().decode("utf-8-sig")
    xlsx = client.get("/reports/ranking.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_periods_are_explained_and_officers_are_refused(app: Any, client: Any) -> None:
    _login(client, "supervisor1")
    bad = client.get("/reports?view=summary&from=2026-12-09&to=2026-12-01")
    assert bad.status_code == 422 and "<svg" not in bad.get_data(as_text=True)
    _login(client, "mediator1")
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/summary.csv").status_code == 403
