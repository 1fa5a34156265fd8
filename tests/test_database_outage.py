"""A stalled or stopped PostgreSQL: requests answer 503 with Retry-After within the configured bounds,
/health within a second, and everything works again once the database answers, without a restart.

The stall is simulated by a TCP proxy between the application and the test server (tests/stall_proxy.py):
frozen, it accepts and acknowledges but never answers, as a server whose processes are stopped does;
closed, its port refuses connections. The shared server is never touched. Time bounds are generous
upper limits on how long a request took; nothing sleeps to wait for a timer.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from app import clock, create_app
from app.config import load_config
from app.database import Database, Limits, db
from app.errors import DatabaseUnavailable
from app.services import demo
from app.services.designer import deployments
from app.services.kernel import calendars
from tests.conftest import BUNDLE, OPERATOR, PASSWORD, Api, empty_postgres
from tests.stall_proxy import StallProxy
from tests.ui.conftest import Pages

# Small bounds, so that each case takes a second or two.
LIMITS = {"DB_CONNECT_TIMEOUT_SECONDS": 1.0, "DB_STALL_SECONDS": 1.0, "DB_PROBE_TIMEOUT_SECONDS": 0.5,
          "DB_STATEMENT_TIMEOUT_MS": 2000, "DB_LOCK_TIMEOUT_MS": 1000, "DB_RETRY_AFTER_SECONDS": 7}
# A request during a stall: the pool's ping of its connection (probe timeout) and one new connection
# (connect timeout), ~1.5 s; or a statement's stall period and the probe, ~1.5 s. With a wide margin:
REQUEST_BOUND = 6.0
HEALTH_BOUND = 1.5  # the probe takes 0.5 s; /health must answer within about a second


class Outage:
    def __init__(self, app: Any, proxy: StallProxy, direct_url: str) -> None:
        self.app, self.proxy, self.direct_url = app, proxy, direct_url
        self.client = app.test_client()
        self.api = Api(self.client)


@pytest.fixture
def outage(postgres_ready: str, frozen_clock: clock.FrozenClock) -> Iterator[Outage]:
    """The application on the session's private test database, reached through a proxy."""
    direct = make_url(postgres_ready)
    empty_postgres(postgres_ready)
    proxy = StallProxy(direct.host or "127.0.0.1", direct.port or 5432)
    url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "TESTING": True, **LIMITS})
    calendars.import_shipped()
    deployments.deploy(OPERATOR, dict(BUNDLE))
    demo.seed_users(PASSWORD)
    try:
        yield Outage(app, proxy, postgres_ready)
    finally:
        proxy.thaw()
        db.dispose()
        proxy.close()


def _timed(call: Any) -> tuple[Any, float]:
    began = time.monotonic()
    result = call()
    return result, time.monotonic() - began


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "7"
    body = response.get_json()
    assert body["type"].endswith("/database-unavailable") and body["status"] == 503
    assert body["title"] == "Database unavailable" and "retry" in body["detail"]


def _assert_health_unavailable(response: Any, elapsed: float) -> None:
    assert response.status_code == 503
    assert elapsed < HEALTH_BOUND, f"/health took {elapsed:.2f} s"
    body = response.get_json()
    assert body["database"] == "unavailable" and body["status"] == "degraded"
    assert set(body) == {"status", "database", "scheduler", "version"}  # the shape of a healthy answer


pytestmark = pytest.mark.postgres


def test_a_frozen_database_answers_503_with_retry_after_and_the_pool_recovers_after_thaw(outage: Outage) -> None:
    headers = outage.api.headers("dispatch1")
    assert outage.client.get("/api/v1/tasks?scope=group", headers=headers).status_code == 200

    outage.proxy.freeze()
    response, elapsed = _timed(lambda: outage.client.get("/api/v1/tasks?scope=group", headers=headers))
    _assert_unavailable(response)
    assert elapsed < REQUEST_BOUND, f"the request took {elapsed:.2f} s"
    response, elapsed = _timed(lambda: outage.client.get("/api/v1/health"))
    _assert_health_unavailable(response, elapsed)
    assert response.headers["Retry-After"] == "7"

    outage.proxy.thaw()
    assert outage.client.get("/api/v1/tasks?scope=group", headers=headers).status_code == 200
    assert outage.client.get("/api/v1/health").get_json()["database"] == "ok"
    outage.api.register()  # commands too


def test_a_statement_in_flight_when_the_database_freezes_ends_with_503(outage: Outage) -> None:
    with pytest.raises(DatabaseUnavailable, match="unreachable, not answering"):
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
            outage.proxy.freeze()
            began = time.monotonic()
            try:
                session.execute(text("SELECT 2"))
            finally:
                elapsed = time.monotonic() - began
    # The statement's stall period (1 s), then the probe (0.5 s).
    assert 0.9 < elapsed < REQUEST_BOUND, f"the statement waited {elapsed:.2f} s"
    outage.proxy.thaw()
    with db.transaction() as session:
        assert session.execute(text("SELECT 3")).scalar_one() == 3


def test_a_long_statement_on_a_live_server_outlasts_the_stall_period(outage: Outage) -> None:
    """Silence alone proves nothing: the server answers the probe, so the statement may run on."""
    with db.transaction() as session:
        assert session.execute(text("SELECT 1 FROM pg_sleep(1.6)")).scalar_one() == 1


def test_a_statement_past_the_statement_timeout_is_503(outage: Outage) -> None:
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="time limit"):
        with db.transaction() as session:
            session.execute(text("SELECT pg_sleep(30)"))
    assert time.monotonic() - began < REQUEST_BOUND


def test_a_row_held_past_the_lock_timeout_is_a_409_conflict(outage: Outage) -> None:
    case = outage.api.register(category="neighbor")
    task = outage.api.task(case["id"], "dispatch")
    holder = create_engine(outage.direct_url)  # another node's transaction, holding the instance row
    try:
        with holder.begin() as conn:
            conn.execute(text("SELECT id FROM process_instances WHERE id = :id FOR UPDATE"),
                         {"id": case["process_instance_id"]})
            response, elapsed = _timed(lambda: outage.client.post(
                f"/api/v1/tasks/{task['id']}/complete", headers=outage.api.headers("dispatch1"),
                json={"data": {"handling_group": "mediation", "complexity": "simple"}}))
    finally:
        holder.dispose()
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["type"].endswith("/concurrent-update") and "Retry-After" not in response.headers
    assert elapsed < REQUEST_BOUND
    # Nothing was changed: once the row is free, the same step goes through.
    outage.api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})


def test_a_stopped_database_answers_503_at_once(outage: Outage) -> None:
    headers = outage.api.headers("dispatch1")
    outage.proxy.close()  # every connection cut, the port refusing
    response, elapsed = _timed(lambda: outage.client.get("/api/v1/tasks?scope=group", headers=headers))
    _assert_unavailable(response)
    assert elapsed < 2.0, f"the request took {elapsed:.2f} s"
    response, elapsed = _timed(lambda: outage.client.get("/api/v1/health"))
    _assert_health_unavailable(response, elapsed)


def test_a_request_that_finds_the_pool_exhausted_answers_503_after_the_connect_timeout(outage: Outage) -> None:
    headers = outage.api.headers("dispatch1")
    assert db.engine is not None
    held = [db.engine.connect() for _ in range(20)]  # the pool's 10 and its 10 of overflow, all taken
    try:
        response, elapsed = _timed(lambda: outage.client.get("/api/v1/tasks?scope=group", headers=headers))
    finally:
        for connection in held:
            connection.close()
    _assert_unavailable(response)
    assert 0.9 < elapsed < REQUEST_BOUND, f"the request took {elapsed:.2f} s"
    assert outage.client.get("/api/v1/tasks?scope=group", headers=headers).status_code == 200


def test_pages_show_a_readable_503_page_while_the_database_is_frozen(outage: Outage) -> None:
    pages = Pages(outage.app).login("dispatch1")
    outage.proxy.freeze()
    response = pages.client.get("/inbox")
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    html = response.get_data(as_text=True)
    assert "服务暂时不可用" in html and "数据库暂时无法访问" in html
    assert "Traceback" not in html and "OperationalError" not in html
    pages.client.set_cookie("lang", "en")
    html = pages.client.get("/inbox").get_data(as_text=True)
    assert "Temporarily unavailable" in html and "the database is unavailable" in html
    outage.proxy.thaw()
    assert pages.client.get("/inbox").status_code == 200


def test_health_checks_during_a_stall_share_one_probe_and_leave_nothing_behind(outage: Outage) -> None:
    assert db._probe is not None
    probe, attempts = db._probe, []
    connect = probe.connect

    def counted() -> Any:
        attempts.append(1)
        return connect()

    probe.connect = counted
    outage.proxy.freeze()
    threads_before = threading.active_count()
    answers: list[tuple[int, float]] = []

    def check() -> None:
        response, elapsed = _timed(lambda: outage.app.test_client().get("/api/v1/health"))
        answers.append((response.status_code, elapsed))

    callers = [threading.Thread(target=check) for _ in range(8)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(10)
    assert [status for status, _ in answers] == [503] * 8
    assert max(elapsed for _, elapsed in answers) < HEALTH_BOUND * 2
    assert len(attempts) <= 3, f"{len(attempts)} probe connections for 8 concurrent checks"
    assert threading.active_count() == threads_before  # no probe thread or connection left waiting
    outage.proxy.thaw()
    assert outage.client.get("/api/v1/health").status_code == 200


def test_sessions_carry_the_timeouts_and_keep_the_urls_own_options(postgres_ready: str) -> None:
    database = Database()
    url = make_url(postgres_ready).update_query_dict({"options": "-c search_path=public,pg_catalog"})
    limits = Limits.from_config(load_config({"DB_STATEMENT_TIMEOUT_MS": 4000, "DB_LOCK_TIMEOUT_MS": 1500,
                                             "DB_CONNECT_TIMEOUT_SECONDS": 3.0}))
    database.open(url.render_as_string(hide_password=False), limits=limits)
    try:
        with database.transaction() as session:
            show = {name: session.execute(text(f"SHOW {name}")).scalar_one()
                    for name in ("statement_timeout", "lock_timeout", "search_path")}
            dsn = session.connection().connection.dbapi_connection.get_dsn_parameters()  # type: ignore[union-attr]
        assert show == {"statement_timeout": "4s", "lock_timeout": "1500ms", "search_path": "public,pg_catalog"}
        assert dsn["connect_timeout"] == "3" and dsn["keepalives"] == "1" and dsn["tcp_user_timeout"] == "30000"
    finally:
        database.dispose()


def test_a_command_whose_statement_meets_a_freeze_ends_with_503(outage: Outage) -> None:
    """A command (db.command, every step's transaction) whose statement meets the stall: the connection
    is closed and invalidated on the way; the command used to trip over it while cleaning up
    (PendingRollbackError, a 500) instead of answering 503 (found by the fault drill)."""
    with pytest.raises(DatabaseUnavailable, match="unreachable, not answering"):
        with db.command() as conn:
            conn.execute(text("SELECT 1"))
            outage.proxy.freeze()
            conn.execute(text("SELECT 2"))
    outage.proxy.thaw()
    with db.command() as conn:
        assert conn.execute(text("SELECT 3")).scalar_one() == 3


# No ping before a checkout: dropped connections are told by their socket, or met and retried ------------

def test_connections_the_server_dropped_while_idle_are_replaced_without_an_error(outage: Outage) -> None:
    headers = outage.api.headers("dispatch1")
    assert outage.client.get("/api/v1/tasks?scope=group", headers=headers).status_code == 200
    outage.proxy.cut()  # every pooled connection ends, as at a server restart or failover
    assert outage.client.get("/api/v1/tasks?scope=group", headers=headers).status_code == 200
    outage.api.register()


def test_a_connection_lost_after_checkout_before_anything_committed_runs_the_request_once_more(
        outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import event

    headers = outage.api.headers("intake1")
    case = outage.api.register()
    assert db.engine is not None
    cuts = []

    def cut_after_the_check(*_args: Any) -> None:
        # After the pool's own look at the socket: the connection dies between checkout and first statement.
        if not cuts:
            cuts.append(1)
            outage.proxy.cut()

    event.listen(db.engine, "checkout", cut_after_the_check)
    try:
        with caplog.at_level("WARNING", logger="app.database"):
            response = outage.client.post("/api/v1/cases", headers=headers, json={
                "title": "重试", "description": "连接断开后重试", "source": "walk_in",
                "parties": [{"name": "李四", "role": "applicant", "phone": "13900000001"}]})
    finally:
        event.remove(db.engine, "checkout", cut_after_the_check)
    assert cuts, "the connection was never cut"
    assert response.status_code == 201, response.get_json()
    assert any("running it once more" in r.getMessage() for r in caplog.records)
    listed = outage.api.get("admin1", "/cases?per_page=100")["items"]
    assert sorted(c["title"] for c in listed) == sorted([case["title"], "重试"])  # registered once


def test_a_connection_lost_while_committing_is_not_run_again(outage: Outage) -> None:
    """The outcome of a commit that lost its connection is unknown: the answer is 503, never a second run."""
    from sqlalchemy import event

    headers = outage.api.headers("intake1")
    outage.api.register()
    assert db.engine is not None

    def cut_at_commit(*_args: Any) -> None:
        outage.proxy.cut()

    event.listen(db.engine, "commit", cut_at_commit)
    try:
        response = outage.client.post("/api/v1/cases", headers=headers, json={
            "title": "提交时断开", "description": "提交时连接断开", "source": "walk_in",
            "parties": [{"name": "王五", "role": "applicant", "phone": "13900000002"}]})
    finally:
        event.remove(db.engine, "commit", cut_at_commit)
    _assert_unavailable(response)
    titles = [c["title"] for c in outage.api.get("admin1", "/cases?per_page=100")["items"]]
    assert titles.count("提交时断开") == 0  # the commit never reached the server, and nothing ran twice
