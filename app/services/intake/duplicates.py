"""Possible duplicates, flagged at intake: a new case whose applicant has the same phone or ID number as
an applicant of a case in the same category received within the 30 days before it (reception times:
an imported work order is compared as of when its source received it). The flag is shown on
the case; it never blocks registration (the same person may well have a second, genuine dispute).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, and_, bindparam, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from app.models import Case, Party, PossibleDuplicate, table_of
from app.models.base import UTCDateTime
from app.prepared import Prepared
from app.services.kernel import present

WINDOW = timedelta(days=30)
MAX_FLAGS = 10

_C, _D = table_of(Case), table_of(PossibleDuplicate)
_MINE, _THEIRS = table_of(Party).alias("mine"), table_of(Party).alias("theirs")


def _same(column: str) -> Any:
    """Cases in the category and window whose applicant shares the new applicant's `column`."""
    return (select(_C.c.id.label("case_id"), literal(column).label("matched_on"))
            .select_from(_MINE.join(_THEIRS, _THEIRS.c[column] == _MINE.c[column])
                         .join(_C, _C.c.id == _THEIRS.c.case_id))
            .where(_MINE.c.case_id == bindparam("b_case"), _MINE.c.role == "applicant",
                   _THEIRS.c.role == "applicant", _C.c.id != bindparam("b_case"),
                   _C.c.category == bindparam("b_category"), _C.c.received_at >= bindparam("b_since")))


# Each search starts from the new applicant and goes through the phone or ID-number index: driven
# from the category instead, it would read every case of the category in the window (with one OR
# join, SQLite did exactly that), and intake would slow down as volume grows.
_MATCHES = union_all(_same("phone"), _same("id_number")).subquery("matches")
_EARLIER = (
    # 'id_number' sorts before 'phone': when both match, the stronger ID match is the one recorded.
    select(bindparam("b_case", type_=Integer), _MATCHES.c.case_id, func.min(_MATCHES.c.matched_on),
           bindparam("b_now", type_=UTCDateTime()))
    .group_by(_MATCHES.c.case_id)
    # A frequent caller may have many cases in the window: the latest few are what an officer checks,
    # and registration must not slow down with the caller's history.
    .order_by(_MATCHES.c.case_id.desc()).limit(MAX_FLAGS))
# One prebuilt INSERT ... SELECT finds and records the flags: registration is on the hot path.
_FLAG = Prepared(insert(_D).from_select(["case_id", "earlier_case_id", "matched_on", "flagged_at"], _EARLIER))
_OF_CASE = (select(_D.c.earlier_case_id, _C.c.case_no, _C.c.status, _C.c.created_at, _D.c.matched_on)
            .join(_C, and_(_C.c.id == _D.c.earlier_case_id))
            .where(_D.c.case_id == bindparam("b_case")).order_by(_C.c.created_at.desc()))


def flag(session: Connection, case_id: int, category: str | None, now: datetime, received_at: datetime) -> None:
    """Record the possible duplicates of a case just registered (its parties already inserted).
    A case registered without a category (triage decides it later) has nothing to compare with."""
    if category is None:
        return
    _FLAG.run(session, {"b_case": case_id, "b_category": category, "b_now": now, "b_since": received_at - WINDOW})


def of_case(session: Session | Connection, case_id: int,
            visible: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """The earlier cases a case may duplicate, newest first (what the case page shows); with `visible`,
    only those among the cases the caller may see (another room's case stays unknown to them)."""
    query = _OF_CASE if visible is None else _OF_CASE.where(visible)
    return [{"case_id": row.earlier_case_id, "case_no": row.case_no, "status": row.status,
             "created_at": present.iso(row.created_at), "matched_on": row.matched_on}
            for row in session.execute(query, {"b_case": case_id})]
