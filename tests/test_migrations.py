"""Migrations carry existing data forward (and back), on SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.database import db
from app.services.kernel import audit
from app.services.operations import schema
from tests.conftest import OPERATOR, private_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (migrations need a database nothing else has touched)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    with private_postgres("concord_migration") as url:
        yield url


_CASE = ("INSERT INTO cases (id, case_no, title, description, source, external_id, urgency, status, reopen_count, "
         "created_by, created_at, updated_at) VALUES (:id, :no, 't', :description, :source, :external, 'normal', "
         "'registered', 0, :by, :at, :at)")


def test_existing_cases_get_their_reception_time_and_keep_everything_else(blank_url: str) -> None:
    schema.upgrade(blank_url, "0005")
    engine = create_engine(blank_url)
    at = "2026-12-01 01:30:00+00:00" if blank_url.startswith("postgresql") else "2026-12-01 01:30:00.000000"
    with engine.begin() as conn:
        conn.execute(text(_CASE), [
            {"id": 1, "no": "ZZ-2026-000001", "description": "窗口登记", "source": "walk_in", "external": None,
             "by": "intake1", "at": at},
            # Imported before reception times had a column: the time is in the note (Shanghai time).
            {"id": 2, "no": "ZZ-2026-000002",
             "description": "外卖骑手被拖欠工资\n（12345热线受理时间：2026-11-27 10:02）",
             "source": "hotline_12345", "external": "GD1", "by": "import:12345", "at": at},
            # A note a person typed into a window case is not a reception time.
            {"id": 3, "no": "ZZ-2026-000003", "description": "（某某受理时间：2020-01-01 00:00）", "source": "walk_in",
             "external": None, "by": "intake1", "at": at}])
        conn.execute(text("INSERT INTO parties (case_id, position, name, role) VALUES (2, 0, '陈磊', 'applicant')"))
    engine.dispose()

    schema.upgrade(blank_url)
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, created_at, received_at FROM cases ORDER BY id")).all()
        if blank_url.startswith("sqlite"):
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    received = {row.id: _utc(row.received_at) for row in rows}
    registered = _utc(rows[0].created_at)
    assert received == {1: registered, 2: datetime(2026, 11, 27, 2, 2, tzinfo=timezone.utc), 3: registered}
    columns = {c["name"]: c for c in inspect(engine).get_columns("cases")}
    assert columns["received_at"]["nullable"] is False
    assert "ix_cases_received_at" in {i["name"] for i in inspect(engine).get_indexes("cases")}
    assert {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("cases")} >= {
        ("case_no",), ("source", "external_id")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM parties WHERE case_id = 2")).scalar_one() == "陈磊"
    engine.dispose()

    schema.downgrade(blank_url, "0005")  # and back: the column goes, the cases stay
    engine = create_engine(blank_url)
    assert "received_at" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 3
    engine.dispose()


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


_GAVE_UP = [
    "INSERT INTO deployments (id, content_hash, sources, deployed_by, deployed_at) VALUES (1, 'h', '{}', 'op', :at)",
    "INSERT INTO process_definitions (id, key, version, name, content_hash, spec_json, elements, deployment_id, "
    "deployed_by, deployed_at) VALUES (1, 'dispute_case', 1, 'd', 'h', '{}', '[]', 1, 'op', :at)",
    "INSERT INTO process_instances (id, definition_id, state, serializer_version, version, status, created_at, "
    "updated_at) VALUES (1, 1, '{}', '1', 1, 'running', :at, :at)",
    "INSERT INTO cases (id, case_no, title, description, source, urgency, status, reopen_count, created_by, "
    "created_at, updated_at, received_at) VALUES (1, 'ZZ-2026-000001', 't', 'd', 'walk_in', 'normal', 'dispatched', "
    "0, 'intake1', :at, :at, :at)",
    "INSERT INTO tasks (id, instance_id, case_id, case_no, bpmn_id, title, state, created_at, escalation_level, "
    "due_provisional, limit_working) VALUES ('t-1', 1, 1, 'ZZ-2026-000001', 'dispatch', '分流交办', 'open', :at, 1, "
    ":no, :yes)",
    "INSERT INTO timers (id, instance_id, case_id, task_id, bpmn_id, kind, fire_at, provisional, state, attempts, "
    "last_error) VALUES (7, 1, 1, 't-1', 'dispatch', 'overdue', :at, :no, 'failed', 5, 'RuntimeError: down'), "
    "(8, 1, 1, 't-1', 'dispatch', 'listed', :at, :no, 'waiting', 0, NULL)",
]


def test_timers_that_gave_up_become_incidents_and_the_table_goes_back_down(blank_url: str) -> None:
    schema.upgrade(blank_url, "0007")
    engine = create_engine(blank_url)
    at = "2026-12-03 00:01:00+00:00" if blank_url.startswith("postgresql") else "2026-12-03 00:01:00.000000"
    with engine.begin() as conn:
        for statement in _GAVE_UP:
            conn.execute(text(statement), {"at": at, "no": False, "yes": True})
    engine.dispose()

    schema.upgrade(blank_url, "0008_incidents")
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        [row] = conn.execute(text("SELECT kind, operation, case_id, task_id, timer_id, element, element_name, error, "
                                  "fingerprint, occurrences, created_at, resolved_at FROM incidents")).all()
    assert row[:10] == ("timer", "timer", 1, "t-1", 7, "dispatch", "分流交办", "RuntimeError: down", "timer:7", 5)
    assert _utc(row.created_at) == datetime(2026, 12, 3, 0, 1, tzinfo=timezone.utc) and row.resolved_at is None
    indexes = {i["name"]: i for i in inspect(engine).get_indexes("incidents")}
    assert indexes["ix_incidents_open_fingerprint"]["unique"]
    engine.dispose()

    schema.downgrade(blank_url, "0007")
    engine = create_engine(blank_url)
    assert "incidents" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM timers")).scalar_one() == 2
    engine.dispose()


def test_groups_that_users_name_are_created_in_one_centre_and_the_schema_goes_back(blank_url: str) -> None:
    schema.upgrade(blank_url, "0007")
    engine = create_engine(blank_url)
    at = "2026-12-01 01:30:00+00:00" if blank_url.startswith("postgresql") else "2026-12-01 01:30:00.000000"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, display_name, password_hash, roles, groups, active, "
                          "created_at) VALUES ('m1', '调解员', 'x', '[\"handler\"]', :groups, true, :at)"),
                     {"groups": '["mediation", "grid_office"]', "at": at})
    engine.dispose()

    schema.upgrade(blank_url)
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        centres = conn.execute(text("SELECT key, name, parent_id FROM centres")).all()
        groups = dict(conn.execute(text("SELECT key, kind FROM groups")).all())
        must_change = conn.execute(text("SELECT must_change_password FROM users")).scalar_one()
    assert [(c.key, c.name, c.parent_id) for c in centres] == [("centre", "本中心", None)]
    assert groups == {"mediation": "mediation", "grid_office": "department"}
    assert not must_change
    engine.dispose()

    schema.downgrade(blank_url, "0007")
    engine = create_engine(blank_url)
    assert "groups" not in inspect(engine).get_table_names()
    assert "must_change_password" not in {c["name"] for c in inspect(engine).get_columns("users")}
    engine.dispose()


_CASE_SINCE_0006 = _CASE.replace("updated_at)", "updated_at, received_at)").replace(":at, :at)", ":at, :at, :at)")

_AUDIT = ("INSERT INTO audit_log (id, at, actor, action, case_id, instance_id, task_id, detail) "
          "VALUES (:id, :at, :actor, :action, :case, NULL, NULL, :detail)")


def test_existing_audit_entries_are_chained_in_order_and_the_log_becomes_append_only(blank_url: str) -> None:
    schema.upgrade(blank_url, "0007")
    engine = create_engine(blank_url)
    postgresql = blank_url.startswith("postgresql")
    at = "2026-12-01 01:30:00+00:00" if postgresql else "2026-12-01 01:30:00.000000"
    with engine.begin() as conn:
        conn.execute(text(_CASE_SINCE_0006), [
            {"id": n, "no": f"ZZ-2026-00000{n}", "description": "d", "source": "walk_in", "external": None,
             "by": "intake1", "at": at} for n in (1, 2)])
        conn.execute(text(_AUDIT), [
            {"id": 1, "at": at, "actor": "admin", "action": "user.login", "case": None, "detail": "{}"},
            {"id": 2, "at": at, "actor": "intake1", "action": "case.registered", "case": 2,
             "detail": '{"case_no": "ZZ-2026-000002", "中文": [1, 2.5, null]}'},
            {"id": 3, "at": at, "actor": "intake1", "action": "case.registered", "case": 1, "detail": "{}"},
            {"id": 4, "at": at, "actor": "dispatch1", "action": "task.completed", "case": 2,
             "detail": '{"b": 1, "a": 2}'},
            {"id": 5, "at": at, "actor": "admin", "action": "user.logout", "case": None, "detail": "{}"}])
        if postgresql:  # ids given by hand: the sequence must move past them, as it would have
            conn.execute(text("SELECT setval('audit_log_id_seq', 5)"))
    engine.dispose()

    schema.upgrade(blank_url)
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, case_id, seq, prev_hash, hash FROM audit_log ORDER BY id")).all()
        heads = dict(conn.execute(text("SELECT chain, seq FROM audit_heads")).all())
    assert [(r.id, r.case_id, r.seq) for r in rows] == [(1, None, 1), (2, 2, 1), (3, 1, 1), (4, 2, 2), (5, None, 2)]
    assert rows[3].prev_hash == rows[1].hash and rows[4].prev_hash == rows[0].hash
    assert {rows[0].prev_hash, rows[1].prev_hash, rows[2].prev_hash} == {audit.GENESIS}
    assert heads == {0: 2, 1: 1, 2: 2}
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'x' WHERE id = 4"))
    engine.dispose()
    # The application recomputes the links the migration wrote, and goes on from them.
    create_app({"DATABASE_URL": blank_url, "SECRET_KEY": "test-secret", "TESTING": True})
    verification = audit.verify(OPERATOR)
    assert verification.intact and (verification.chains, verification.entries) == (3, 5)
    with db.command() as conn:
        audit.record(conn, actor="dispatch1", action="task.claimed", case_id=2)
    verification = audit.verify(OPERATOR)
    assert verification.intact and verification.entries == 6
    db.dispose()

    schema.downgrade(blank_url, "0007")  # and back: the links and heads go, the entries stay
    engine = create_engine(blank_url)
    assert not {"seq", "prev_hash", "hash"} & {c["name"] for c in inspect(engine).get_columns("audit_log")}
    assert "audit_heads" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 6
    engine.dispose()
    schema.upgrade(blank_url)  # and forth again
    create_app({"DATABASE_URL": blank_url, "SECRET_KEY": "test-secret", "TESTING": True})
    assert audit.verify(OPERATOR).intact
    db.dispose()


def test_existing_cases_and_tasks_become_dispute_cases_and_deployments_learn_their_origin(blank_url: str) -> None:
    schema.upgrade(blank_url, "0011")
    engine = create_engine(blank_url)
    at = "2026-12-03 00:01:00+00:00" if blank_url.startswith("postgresql") else "2026-12-03 00:01:00.000000"
    with engine.begin() as conn:
        for statement in _GAVE_UP[:5]:  # a deployment by an operator, its definition, an instance, a case, a task
            conn.execute(text(statement), {"at": at, "no": False, "yes": True})
        conn.execute(text("INSERT INTO deployments (id, content_hash, sources, deployed_by, deployed_at) "
                          "VALUES (2, 'r', '{}', 'cli', :at)"), {"at": at})
    engine.dispose()

    schema.upgrade(blank_url, "0012_case_types")
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT case_type FROM cases")).scalars().all() == ["dispute_case"]
        assert conn.execute(text("SELECT case_type FROM tasks")).scalars().all() == ["dispute_case"]
        assert conn.execute(text("SELECT id, origin FROM deployments ORDER BY id")).all() == [
            (1, "pages"), (2, "repository")]
    columns = {table: {c["name"]: c for c in inspect(engine).get_columns(table)}
               for table in ("cases", "tasks", "deployments")}
    assert not any(columns[t][c]["nullable"] for t, c in (("cases", "case_type"), ("tasks", "case_type"),
                                                          ("deployments", "origin")))
    assert "ix_cases_case_type" in {i["name"] for i in inspect(engine).get_indexes("cases")}
    engine.dispose()

    schema.downgrade(blank_url, "0011")
    engine = create_engine(blank_url)
    assert "case_type" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    assert "origin" not in {c["name"] for c in inspect(engine).get_columns("deployments")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tasks")).scalar_one() == 1
    engine.dispose()
