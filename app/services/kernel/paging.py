"""The list shape every collection endpoint answers with."""
from __future__ import annotations

from typing import Any, Callable, TypedDict

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PER_PAGE = 200


class Page(TypedDict):
    items: list[Any]  # the shapes of app.services.kernel.shapes, or report rows
    total: int
    page: int
    per_page: int


MAX_PAGE = 1_000_000  # beyond any real list; keeps OFFSET inside what the databases accept


def clamp(page: int, per_page: int) -> tuple[int, int]:
    return min(max(1, page), MAX_PAGE), min(max(1, per_page), MAX_PER_PAGE)


def paginate(session: Session, query: Select[Any], page: int, per_page: int,
             render: Callable[..., Any]) -> Page:
    page, per_page = clamp(page, per_page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [render(*row) for row in rows], "total": int(total), "page": page, "per_page": per_page}
