"""The audit log is tamper-evident: the database refuses to change or remove entries, every entry is a
link of its case's (or the system's) hash chain, and `concord audit verify` finds the first entry that
does not hold — on SQLite and on PostgreSQL."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from app import cli
from app.config import PROJECT_ROOT
from app.database import db
from app.services.kernel import audit, instances, queries, timers
from tests.conftest import OPERATOR, Api

JOURNEY = (
    ("dispatch", "dispatch1", {"handling_group": "mediation", "complexity": "simple"}),
    ("sign_for", "mediator1", {"accepted": True}),
    ("handle", "mediator1", {"outcome": "resolved"}),
    ("feedback", "intake1", {"satisfied": True, "visit_method": "phone"}),
)


def _journey(api: Api, steps: tuple[tuple[str, str, dict[str, Any]], ...] = JOURNEY) -> int:
    case = api.register(category="neighbor")
    for name, user, data in steps:
        api.work(user, case["id"], name, data)
    return int(case["id"])


def _concord(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONCORD_DATABASE_URL": url, "CONCORD_SECRET_KEY": "x"}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _verify_in_process(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                       *args: str) -> tuple[int, str]:
    monkeypatch.setenv("CONCORD_DATABASE_URL", url)
    monkeypatch.setenv("CONCORD_SECRET_KEY", "test-secret")
    code = cli.main(["audit", "verify", *args])
    return code, capsys.readouterr().out


@contextmanager
def _sql(url: str) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def _triggers_bypassed(url: str) -> Iterator[Connection]:
    """What someone with the database's keys can do: PostgreSQL's triggers do not fire in a session that
    replays as a replica; SQLite's can be dropped (and are put back afterwards)."""
    with _sql(url) as conn:
        if url.startswith("postgresql"):
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn
            return
        saved = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                  "AND tbl_name IN ('audit_log', 'audit_heads')")).all()
        assert len(saved) == 4
        for name, _sql_text in saved:
            conn.execute(text(f"DROP TRIGGER {name}"))
        yield conn
        for _name, sql_text in saved:
            conn.execute(text(sql_text))


def _chain(url: str, case_id: int) -> list[Any]:
    with _sql(url) as conn:
        return conn.execute(text("SELECT id, seq, prev_hash, hash, action FROM audit_log WHERE case_id = :c "
                                 "ORDER BY seq"), {"c": case_id}).all()


def _assert_linked(rows: list[Any]) -> None:
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    assert [row.prev_hash for row in rows] == [audit.GENESIS] + [row.hash for row in rows[:-1]]


# Links --------------------------------------------------------------------------------------------
def _migration_0008() -> Any:
    path = PROJECT_ROOT / "migrations" / "versions" / "0011_audit_hash_chain.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SH = timezone(timedelta(hours=8))


@pytest.mark.parametrize("fields", [
    (audit.GENESIS, 1, datetime(2026, 12, 1, 9, 30, tzinfo=SH), "张三", "case.registered", 7, 3,
     "0f5c3c1e-1234-4cde-9abc-0123456789ab", {"case_no": "ZZ-2026-000007", "中文": [1, 2.5, None, True]}),
    ("f" * 64, 12, datetime(2026, 12, 1, 1, 30, 0, 123456, tzinfo=timezone.utc), 'a"b\\c\n\t\x00\u2028😀',
     "user.login", None, None, None, {}),
    ("0" * 64, 2**40, datetime(2027, 1, 1, tzinfo=timezone.utc), "system", "timer.fired", 2**31, None, None,
     {"z": {"b": [{"y": 1, "x": -0.5e-7}], "a": "é"}, "a": False, "é": "\"", "": None}),
])
def test_the_hash_is_that_of_the_canonical_json_as_the_migration_defines_it(fields: tuple[Any, ...]) -> None:
    text = audit.canonical_text(*fields)
    assert json.loads(text)["detail"] == fields[-1] and ": " not in text and ", " not in text
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert audit.chain_hash(*fields) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert _migration_0008().chain_hash(*fields) == audit.chain_hash(*fields)


def test_a_detail_is_hashed_as_it_reads_back(app: Any, database_url: str) -> None:
    """Keys that are not texts and tuples come back from JSON as texts and lists: the hash is of those."""
    with db.command() as conn:
        audit.record(conn, actor="x", action="test.odd_detail", detail={1: "one", "pair": (1, 2), "nested": {2: [3]}})
    with _sql(database_url) as conn:
        stored = conn.execute(text("SELECT detail FROM audit_log WHERE action = 'test.odd_detail'")).scalar_one()
    assert _detail(stored) == {"1": "one", "pair": [1, 2], "nested": {"2": [3]}}
    assert audit.verify(OPERATOR).intact


# The database refuses ------------------------------------------------------------------------------
def test_updating_or_deleting_an_audit_entry_is_refused_and_the_case_keeps_its_timeline(
        app: Any, api: Api, database_url: str) -> None:
    case_id = _journey(api, JOURNEY[:2])
    before = api.get("admin1", f"/cases/{case_id}")["timeline"]
    for statement in ("UPDATE audit_log SET detail = '{\"forged\": true}' WHERE case_id = :c",
                      "UPDATE audit_log SET actor = 'nobody' WHERE case_id = :c",
                      "DELETE FROM audit_log WHERE case_id = :c",
                      "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), _sql(database_url) as conn:
            conn.execute(text(statement), {"c": case_id})
    assert api.get("admin1", f"/cases/{case_id}")["timeline"] == before


def test_chain_heads_only_move_forward(app: Any, api: Api, database_url: str) -> None:
    case_id = _journey(api, JOURNEY[:1])
    for statement in ("UPDATE audit_heads SET seq = seq - 1 WHERE chain = :c",
                      "UPDATE audit_heads SET seq = seq WHERE chain = :c",
                      "UPDATE audit_heads SET chain = chain + 1000 WHERE chain = :c",
                      "DELETE FROM audit_heads WHERE chain = :c"):
        with pytest.raises(DBAPIError, match="only move forward"), _sql(database_url) as conn:
            conn.execute(text(statement), {"c": case_id})


# (SQLite has no TRUNCATE: its DELETE without WHERE is refused like any DELETE, above.)
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("table", ["audit_log", "audit_heads", "cases CASCADE"])
def test_postgresql_refuses_to_truncate_the_audit_tables(app: Any, api: Api, database_url: str, table: str) -> None:
    _journey(api, JOURNEY[:1])
    with pytest.raises(DBAPIError, match="TRUNCATE is refused"), _sql(database_url) as conn:
        conn.execute(text(f"TRUNCATE {table}"))
    with _sql(database_url) as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() > 0


# Intact logs verify --------------------------------------------------------------------------------
def test_an_intact_log_after_whole_journeys_verifies(app: Any, api: Api, database_url: str,
                                                      frozen_clock: Any) -> None:
    first, second = _journey(api), _journey(api)
    # A late node: the timers escalate it, a supervisor urges it, its supervision task lists it.
    late = api.register(category="neighbor")
    api.work("dispatch1", late["id"], "dispatch", {"handling_group": "mediation", "complexity": "general"})
    sign_for = api.task(late["id"], "sign_for")
    api.post("mediator1", f"/tasks/{sign_for['id']}/claim")
    frozen_clock.set(datetime.fromisoformat(sign_for["due_at"]) + timedelta(hours=1))
    assert timers.run_once().fired >= 2
    api.post("supervisor1", f"/tasks/{sign_for['id']}/urge", json={"note": "请尽快签收"})
    supervise = api.task(late["id"], "supervise")
    api.post("supervisor1", f"/tasks/{supervise['id']}/claim")
    api.post("supervisor1", f"/tasks/{supervise['id']}/complete",
             json={"data": {"action": "list", "note": "三日内书面说明"}})
    api.post("mediator1", f"/tasks/{sign_for['id']}/unclaim")
    api.post("admin1", "/auth/logout", expect=204)
    for case_id in (first, second, late["id"]):
        _assert_linked(_chain(database_url, case_id))
    actions = [row.action for row in _chain(database_url, late["id"])]
    assert "task.urged" in actions and "task.listed" in actions and "task.warning" in actions

    done = _concord(database_url, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "intact" in done.stdout and "4 chains" in done.stdout  # three cases and the system chain
    one = _concord(database_url, "audit", "verify", "--case", str(first))
    assert one.returncode == 0 and "case" in one.stdout and "1 chains" in one.stdout
    assert "no entries" in _concord(database_url, "audit", "verify", "--case", "999").stdout
    nonsense = _concord(database_url, "audit", "verify", "--case", "0")
    assert nonsense.returncode == 1 and "case ids are positive" in nonsense.stderr


def test_the_chain_holds_whether_the_head_was_remembered_stale_or_read(
        app: Any, api: Api, database_url: str, frozen_clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    real_lock = queries.lock_audit_head
    monkeypatch.setattr(queries, "lock_audit_head", lambda conn, chain: reads.append(chain) or real_lock(conn, chain))
    case = api.register(category="neighbor")
    case_id = case["id"]
    api.work("dispatch1", case_id, "dispatch", {"handling_group": "mediation", "complexity": "general"})
    assert reads == []  # each append knew its chain's head: the case's from registration, the system's likewise
    sign_for = api.task(case_id, "sign_for")

    # Another process (a timer worker) writes to the case's chain: this one's remembered head is stale.
    due = datetime.fromisoformat(sign_for["due_at"])
    fired = _concord(database_url, "timers", "run", "--now", (due - timedelta(minutes=1)).isoformat())
    assert fired.returncode == 0 and "fired 1" in fired.stdout, fired.stdout + fired.stderr
    frozen_clock.set(due)
    api.work("mediator1", case_id, "sign_for", {"accepted": True})
    assert reads.count(case_id) == 1

    # A fresh process: nothing remembered, the workflow loaded from the database.
    instances.cache.clear()
    audit.heads.clear()
    api.work("mediator1", case_id, "handle", {"outcome": "resolved"})
    assert reads.count(case_id) == 2

    # A step that rolled back leaves a remembered head the table never had.
    with pytest.raises(RuntimeError), db.command() as conn:
        audit.record(conn, actor="x", action="test.rolled_back", case_id=case_id)
        raise RuntimeError("rolled back")
    api.work("intake1", case_id, "feedback", {"satisfied": True, "visit_method": "phone"})
    assert reads.count(case_id) == 3

    rows = _chain(database_url, case_id)
    _assert_linked(rows)
    assert "task.warning" in [row.action for row in rows] and "test.rolled_back" not in [row.action for row in rows]
    assert audit.verify(OPERATOR).intact


def test_concurrent_writers_keep_every_chain_whole(app: Any, api: Api, database_url: str) -> None:
    cases = [api.register(category="neighbor")["id"] for _ in range(2)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def journey() -> None:  # its own case, its own logins (the system chain)
        try:
            barrier.wait()
            _journey(Api(app.test_client()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def notes(n: int) -> None:  # two writers on each of the two cases, at once
        try:
            barrier.wait()
            for i in range(12):
                if i % 3 == n % 3:
                    audit.heads.clear()  # as if another node had written since
                with db.command() as conn:
                    audit.record(conn, actor=f"w{n}", action="test.note", case_id=cases[n % 2], detail={"i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=journey) for _ in range(2)]
    threads += [threading.Thread(target=notes, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for case_id in cases:
        rows = _chain(database_url, case_id)
        _assert_linked(rows)
        assert [row.action for row in rows].count("test.note") == 24
    verification = audit.verify(OPERATOR)
    assert verification.intact, [str(b) for b in verification.breaks]
    assert verification.chains == 5  # four cases and the system chain


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_verify_reads_one_instant_while_the_log_grows(app: Any, api: Api, database_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _journey(api, JOURNEY[:1])
    real_heads = audit._recorded_heads

    def heads_then_others_write(*args: Any) -> Any:
        heads = real_heads(*args)

        def write() -> None:  # after the heads were read, before the entries are
            api_elsewhere = Api(app.test_client())
            api_elsewhere.work("mediator1", case_id, "sign_for", {"accepted": True})  # its case and logins
            _journey(api_elsewhere, JOURNEY[:1])  # a new case
        worker = threading.Thread(target=write)
        worker.start()
        worker.join()
        return heads

    monkeypatch.setattr(audit, "_recorded_heads", heads_then_others_write)
    verification = audit.verify(OPERATOR)
    assert verification.intact, [str(b) for b in verification.breaks]
    assert verification.chains == 2  # the system chain and the case, as they were when verification began
    monkeypatch.undo()
    assert audit.verify(OPERATOR).chains == 3


# Forged entries are named --------------------------------------------------------------------------
@pytest.mark.forges_audit
def test_a_forged_entry_makes_verify_fail_naming_it(app: Any, api: Api, database_url: str) -> None:
    case_id = _journey(api)
    other = _journey(api)
    victim = _chain(database_url, case_id)[3]
    with _triggers_bypassed(database_url) as conn:
        conn.execute(text("UPDATE audit_log SET detail = :d WHERE id = :id"),
                     {"d": '{"task": "dispatch", "data": {"handling_group": "family"}}', "id": victim.id})
    # The case page now shows the forgery; the chain shows it is one.
    done = _concord(database_url, "audit", "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"first broken entry: audit entry {victim.id} (case {case_id}, #4 of its chain): content changed" \
        in done.stdout
    assert "1 chains broken" in done.stdout
    assert _concord(database_url, "audit", "verify", "--case", str(other)).returncode == 0


@pytest.mark.forges_audit
@pytest.mark.parametrize("forgery", ["changed", "removed", "removed_last", "rehashed", "appended", "head_removed",
                                     "all_removed"])
def test_verify_names_each_kind_of_forgery(app: Any, api: Api, database_url: str, forgery: str,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    case_id = _journey(api)
    rows = _chain(database_url, case_id)
    victim, after, last = rows[4], rows[5], rows[-1]
    named = {"changed": (victim, "content changed"), "removed": (after, "gap: entries #5 of the chain"),
             "removed_last": (rows[-2], "the entries after this one were removed"),
             "rehashed": (after, f"previous hash does not match: it names {victim.hash[:12]}"),
             "appended": (None, "beyond the chain's recorded head"), "head_removed": (last, "no recorded head"),
             "all_removed": (None, f"case {case_id}: its head records {len(rows)} entries, none is left")}
    with _triggers_bypassed(database_url) as conn:
        if forgery == "changed":
            conn.execute(text("UPDATE audit_log SET actor = 'someone' WHERE id = :id"), {"id": victim.id})
        elif forgery in ("removed", "removed_last"):
            conn.execute(text("DELETE FROM audit_log WHERE id = :id"),
                         {"id": victim.id if forgery == "removed" else last.id})
        elif forgery == "rehashed":  # a changed entry whose own hash was made to fit
            entry = conn.execute(text("SELECT * FROM audit_log WHERE id = :id"), {"id": victim.id}).one()
            forged = audit.chain_hash(entry.prev_hash, entry.seq, _instant(entry.at), "someone", entry.action,
                                      entry.case_id, entry.instance_id, entry.task_id, _detail(entry.detail))
            conn.execute(text("UPDATE audit_log SET actor = 'someone', hash = :h WHERE id = :id"),
                         {"h": forged, "id": victim.id})
        elif forgery == "appended":  # a well-linked entry added behind the head's back
            link = audit.chain_hash(last.hash, last.seq + 1, datetime.fromisoformat("2026-12-01T02:00:00+00:00"),
                                    "someone", "case.reopened", case_id, None, None, {})
            conn.execute(text("INSERT INTO audit_log (at, actor, action, case_id, detail, seq, prev_hash, hash) "
                              "VALUES (:at, 'someone', 'case.reopened', :c, '{}', :s, :p, :h)"),
                         {"at": datetime.fromisoformat("2026-12-01T02:00:00+00:00") if database_url.startswith(
                             "postgresql") else "2026-12-01 02:00:00.000000", "c": case_id, "s": last.seq + 1,
                          "p": last.hash, "h": link})
            named["appended"] = (conn.execute(text("SELECT max(id) FROM audit_log")).scalar_one(),
                                 named["appended"][1])
        elif forgery == "head_removed":
            conn.execute(text("DELETE FROM audit_heads WHERE chain = :c"), {"c": case_id})
        else:
            conn.execute(text("DELETE FROM audit_log WHERE case_id = :c"), {"c": case_id})
    entry_row, problem = named[forgery]
    entry_id = entry_row if isinstance(entry_row, int) or entry_row is None else entry_row.id
    code, out = _verify_in_process(database_url, monkeypatch, capsys)
    assert code == 1, out
    first = out.splitlines()[1]
    assert problem in first, out
    if entry_id is not None:
        assert first.startswith(f"first broken entry: audit entry {entry_id} (case {case_id}, "), out
    code, out = _verify_in_process(database_url, monkeypatch, capsys, "--case", str(case_id))
    assert code == 1 and problem in out



def _instant(value: Any) -> datetime:
    """An instant as the application reads it back (plain SQL on SQLite gives the stored UTC text)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _detail(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
