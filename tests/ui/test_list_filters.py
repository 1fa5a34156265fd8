"""The inbox and the board: the cases' facts in each row, search and filters on the page, and the
filters a user chose remembered the next time they open the list (until they clear them)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.services.kernel import timers
from tests.conftest import Api
from tests.ui.conftest import Pages


def _rows(html: str, case_no: str) -> int:
    return html.count(f'data-case-no="{case_no}"')


def test_the_inbox_shows_the_cases_facts_and_filters_by_category(pages: Pages, api: Api) -> None:
    labor = api.register(title="拖欠工资纠纷", category="labor", urgency="urgent")
    neighbour = api.register(title="邻里噪音纠纷", category="neighbor")
    pages.login("dispatch1")
    html = pages.get("/inbox")
    assert _rows(html, labor["case_no"]) == 1 and _rows(html, neighbour["case_no"]) == 1
    assert "拖欠工资纠纷" in html and "劳动人事争议" in html and "窗口来访" in html  # title, category, source by name
    filtered = pages.get("/inbox?filtered=1&category=labor")
    assert _rows(filtered, labor["case_no"]) == 1 and _rows(filtered, neighbour["case_no"]) == 0
    searched = pages.get("/inbox?filtered=1&q=%E5%99%AA%E9%9F%B3")  # 噪音
    assert _rows(searched, labor["case_no"]) == 0 and _rows(searched, neighbour["case_no"]) == 1


def test_a_users_filters_are_remembered_until_cleared(pages: Pages, api: Api) -> None:
    labor = api.register(category="labor")
    neighbour = api.register(category="neighbor")
    pages.login("dispatch1")
    pages.get("/inbox?filtered=1&category=labor")
    again = pages.client.get("/inbox")
    assert again.status_code == 302 and "category=labor" in again.headers["Location"]
    html = pages.get(again.headers["Location"])
    assert _rows(html, labor["case_no"]) == 1 and _rows(html, neighbour["case_no"]) == 0
    assert 'value="labor" selected' in html
    pages.get("/inbox?reset=1")
    html = pages.get("/inbox")  # nothing remembered: every task again
    assert _rows(html, labor["case_no"]) == 1 and _rows(html, neighbour["case_no"]) == 1


def test_the_board_filters_by_case_type_and_search(pages: Pages, api: Api, frozen_clock: Any) -> None:
    late = api.register(title="超期的劳动纠纷", category="labor")
    frozen_clock.advance(timedelta(days=5))  # dispatch's day is long past: the ladder climbed
    timers.run_once()
    pages.login("supervisor1")
    html = pages.get("/supervision")
    assert _rows(html, late["case_no"]) >= 1 and "超期的劳动纠纷" in html
    assert _rows(pages.get("/supervision?filtered=1&q=nothing-like-this"), late["case_no"]) == 0
    assert _rows(pages.get("/supervision?filtered=1&case_type=dispute_case"), late["case_no"]) >= 1
