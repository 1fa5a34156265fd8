"""Prepared statements (the hot path on the driver cursor) store and read exactly what Core does."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.exc import IntegrityError, NoResultFound

from app import create_app
from app.database import db
from app.models import AuditEntry, Case, Timer, table_of
from app.models.base import UTCDateTime
from app.prepared import Prepared
from app.services.intake import cases
from app.services.kernel import principals

_A, _C, _TM = table_of(AuditEntry), table_of(Case), table_of(Timer)
AT = datetime(2026, 12, 1, 1, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
def database(database_url: str) -> Any:
    create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "TESTING": True})
    return db


def _case(case_no: str) -> dict[str, Any]:
    return {"case_no": case_no, "title": "t", "description": "d", "request": None, "source": "walk_in",
            "external_id": None, "category": "neighbor", "urgency": "normal", "risk_level": None,
            "amount": Decimal("1234.50"), "grid": None, "address": None, "willing_to_mediate": True,
            "status": "registered", "procedure": None, "procedure_since": None, "handling_group": None,
            "complexity": None, "outcome": None, "satisfied": None, "reopen_count": 0, "process_instance_id": None,
            "created_by": "intake1", "created_at": AT, "received_at": AT, "updated_at": AT, "closed_at": None}


def test_rows_written_on_the_driver_read_back_through_core_unchanged(database: Any) -> None:
    # (Links of no chain: this is about the statement, not the audit log's hashes.)
    entries = [{"at": AT, "actor": "张三", "action": "x", "case_id": None, "instance_id": None, "task_id": None,
                "detail": {"中文": [1, 2], "none": None}, "seq": 1000 + n, "prev_hash": "-" * 64, "hash": "-" * 64}
               for n in range(2)]
    with database.command() as conn:
        Prepared(insert(_A)).run_many(conn, entries)
        rows = Prepared(select(_A).where(_A.c.actor == bindparam("b_actor")).order_by(_A.c.id)).run(
            conn, {"b_actor": "张三"}).rows
        core = conn.execute(select(_A).where(_A.c.actor == "张三").order_by(_A.c.id)).all()
    assert [tuple(row) for row in rows] == [tuple(row) for row in core]
    assert rows[0].at == AT and rows[0].at.tzinfo is not None and rows[0].detail == {"中文": [1, 2], "none": None}


def test_returning_gives_typed_values_and_inserts_fill_scalar_defaults(app: Any) -> None:
    body = {"title": "邻里纠纷", "description": "楼上漏水", "source": "walk_in", "category": "neighbor",
            "amount": 1234.5, "parties": [{"name": "张三", "role": "applicant", "phone": "13800138000"}]}
    registered, _created = cases.register(principals.find_principal("intake1"), body)
    with db.command() as conn:
        Prepared(insert(_TM)).run_many(conn, [{"instance_id": registered["process_instance_id"],
                                               "case_id": registered["id"], "task_id": "t-1",
                                               "bpmn_id": "handle", "fire_at": AT, "last_error": None,
                                               "fired_at": None, "fired_by": None}])
        changed = Prepared(update(_C).where(_C.c.id == bindparam("b_id")).values(status=bindparam("b_status"))
                           .returning(*_C.c)).run(conn, {"b_id": registered["id"], "b_status": "closed"})
        timer = conn.execute(select(_TM).where(_TM.c.task_id == "t-1")).one()
    assert changed.rowcount == 1
    [case] = changed.rows
    assert case.status == "closed" and case.amount == Decimal("1234.50") and case.created_at.tzinfo is not None
    assert (timer.kind, timer.state, timer.attempts, timer.provisional) == ("engine", "waiting", 0, False)


def test_driver_errors_surface_as_sqlalchemy_errors_and_roll_the_command_back(database: Any) -> None:
    statement = Prepared(insert(_C).returning(_C.c.id))
    with pytest.raises(IntegrityError), database.command() as conn:
        statement.run(conn, _case("ZZ-2026-000002"))
        statement.run(conn, _case("ZZ-2026-000002"))  # case numbers are unique
    with database.command() as conn:
        assert conn.execute(select(_C.c.id)).all() == []


def test_misuse_is_refused(database: Any) -> None:
    by_id = Prepared(select(_C.c.id).where(_C.c.id == bindparam("b_id")))
    with database.command() as conn:
        with pytest.raises(NoResultFound):
            by_id.run(conn, {"b_id": 404}).one()
        with pytest.raises(ValueError, match="expanding"):
            Prepared(select(_C.c.id).where(_C.c.id.in_(bindparam("b_ids", expanding=True)))).run(conn, {"b_ids": [1]})
    assert database.engine is not None
    with database.engine.connect() as idle, pytest.raises(RuntimeError, match="inside the caller's transaction"):
        by_id.run(idle, {"b_id": 1})  # the driver would autocommit outside a transaction


@pytest.mark.parametrize("instant", [
    datetime(2026, 12, 1, 1, 30, 15, 123456, tzinfo=timezone.utc), datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc),
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
    datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))])
def test_instants_keep_sqlalchemys_sqlite_text_and_read_back_as_utc(instant: datetime) -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime()
    stored = column.bind_processor(dialect)(instant)
    assert stored == DATETIME().bind_processor(dialect)(column.process_bind_param(instant, dialect))
    assert column.result_processor(dialect, None)(stored) == instant
    with pytest.raises(ValueError, match="naive"):
        column.bind_processor(dialect)(instant.replace(tzinfo=None))


def test_a_reused_instant_and_the_next_one_each_bind_their_own_text() -> None:
    dialect = sqlite.dialect()
    bind = UTCDateTime().bind_processor(dialect)
    first = datetime(2026, 12, 1, 1, 30, 15, 1, tzinfo=timezone.utc)
    second = datetime(2026, 12, 1, 9, 30, 15, 1, tzinfo=timezone(timedelta(hours=8)))  # equal instant, other object
    third = datetime(2026, 12, 2, 0, 0, tzinfo=timezone.utc)
    assert bind(first) == bind(first) == bind(second) == "2026-12-01 01:30:15.000001"
    assert bind(third) == "2026-12-02 00:00:00.000000"
    assert bind(first) == "2026-12-01 01:30:15.000001"


def test_text_stored_with_an_offset_reads_as_the_same_utc_instant() -> None:
    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    assert read("2026-12-01 09:30:00.000000+08:00") == datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    assert read("2026-12-01 01:30:00") == datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)


def test_a_bare_date_written_by_hand_reads_as_midnight_utc() -> None:
    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    assert read("2026-12-01") == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert read("2026-12-01").tzinfo is not None


def test_sql_echo_shows_the_hot_path_statements_too(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "TESTING": True, "SQL_ECHO": True})
    try:
        with caplog.at_level("INFO", logger="sqlalchemy.engine.Engine"), db.command() as conn:
            Prepared(select(_A.c.id).where(_A.c.actor == bindparam("b_actor"))).run(conn, {"b_actor": "echo-me"})
        assert any("[prepared]" in r.getMessage() and "echo-me" in r.getMessage() for r in caplog.records)
    finally:
        db.dispose()
