"""Possible duplicates, flagged at intake: a new case whose applicant has the same phone or ID number as
an applicant of a case in the same category received within the 30 days before it (reception times:
an imported work order is compared as of when its source received it). The flag is shown on
the case; it never blocks registration (the same person may well have a second, genuine dispute).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, select
from sqlalchemy.orm import Session

from app.models import Case, PossibleDuplicate, table_of
from app.services.intake import queries
from app.services.kernel import present

WINDOW = timedelta(days=30)

_C, _D = table_of(Case), table_of(PossibleDuplicate)
_OF_CASE = (select(_D.c.earlier_case_id, _C.c.case_no, _C.c.status, _C.c.created_at, _D.c.matched_on)
            .join(_C, and_(_C.c.id == _D.c.earlier_case_id))
            .where(_D.c.case_id == bindparam("b_case")).order_by(_C.c.created_at.desc()))


def flag(conn: Connection, case_id: int, category: str | None, now: datetime, received_at: datetime) -> None:
    """Record the possible duplicates of a case just registered (its parties already inserted).
    A case registered without a category (triage decides it later) has nothing to compare with."""
    if category is None:
        return
    queries.flag_possible_duplicates(conn, case_id, category, now=now, since=received_at - WINDOW)


def of_case(conn: Session | Connection, case_id: int,
            visible: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """The earlier cases a case may duplicate, newest first (what the case page shows); with `visible`,
    only those among the cases the caller may see (another room's case stays unknown to them)."""
    query = _OF_CASE if visible is None else _OF_CASE.where(visible)
    return [{"case_id": row.earlier_case_id, "case_no": row.case_no, "status": row.status,
             "created_at": present.iso(row.created_at), "matched_on": row.matched_on}
            for row in conn.execute(query, {"b_case": case_id})]
