"""Intake's hot-path SQL, behind names (the prepared-statement mechanism is private to these modules)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, func, insert, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from app.models import Case, Counter, Party, PossibleDuplicate, table_of
from app.models.base import UTCDateTime
from app.prepared import Prepared

MAX_FLAGS = 10  # possible duplicates recorded for one new case, the latest first
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


def flag_possible_duplicates(conn: Connection, case_id: int, category: str, *, now: datetime,
                             since: datetime) -> None:
    _FLAG.run(conn, {"b_case": case_id, "b_category": category, "b_now": now, "b_since": since})


_COUNTERS = table_of(Counter)
# UPDATE ... RETURNING is cacheable; an upsert with a SET clause is not (it recompiles every time).
_BUMP_COUNTER = Prepared(update(_COUNTERS).where(_COUNTERS.c.name == bindparam("b_name"))
                         .values(value=_COUNTERS.c.value + 1).returning(_COUNTERS.c.value))
_CREATE_COUNTER = {name: dialect.insert(_COUNTERS).values(name=bindparam("b_name"), value=0)
                   .on_conflict_do_nothing(index_elements=["name"])
                   for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}
_INSERT_CASE = Prepared(insert(table_of(Case)).returning(table_of(Case).c.id))
_INSERT_PARTIES = Prepared(insert(table_of(Party)))


def bump_counter(conn: Connection, name: str) -> int | None:
    """The counter's next value; None when the counter does not exist yet."""
    return _BUMP_COUNTER.run(conn, {"b_name": name}).scalar()


def create_counter(conn: Connection, name: str) -> None:
    """Create the counter at 0 unless a racing transaction did."""
    conn.execute(_CREATE_COUNTER[conn.dialect.name], {"b_name": name})


def insert_case(conn: Connection, row: dict[str, Any]) -> int:
    return int(_INSERT_CASE.run(conn, row).scalar_one())


def insert_parties(conn: Connection, rows: list[dict[str, Any]]) -> None:
    _INSERT_PARTIES.run_many(conn, rows)
