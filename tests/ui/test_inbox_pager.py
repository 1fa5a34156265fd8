"""The inbox page reads on by cursor: next and previous links, and how many there are in all."""
from __future__ import annotations

import html as markup
import re
import uuid

from sqlalchemy import insert, select

from app.database import db
from app.models import TaskRow
from tests.conftest import Api
from tests.ui.conftest import Pages


def _rows(html: str) -> list[str]:
    return re.findall(r'data-task-id="([^"]+)"', html)


def _link(html: str, label: str) -> str:
    found = re.search(r'<a href="([^"]+)">[^<]*' + label, html)
    assert found, f"no {label} link"
    return markup.unescape(found.group(1))


def test_the_inbox_pages_on_by_cursor_and_back(pages: Pages, api: Api) -> None:
    case = api.register(category="labor")
    with db.command() as conn:  # 59 more dispatch tasks: the one real task cloned
        task = conn.execute(select(TaskRow.__table__).where(TaskRow.case_id == case["id"])).one()._asdict()
        conn.execute(insert(TaskRow.__table__), [{**task, "id": str(uuid.uuid4())} for _ in range(59)])
    pages.login("dispatch1")
    first = pages.get("/inbox?scope=group")
    assert len(_rows(first)) == 50 and "共 60 项" in first and "上一页" not in first
    second = pages.get(_link(first, "下一页"))
    assert len(_rows(second)) == 10 and not set(_rows(second)) & set(_rows(first)) and "下一页" not in second
    assert _rows(pages.get(_link(second, "上一页"))) == _rows(first)
