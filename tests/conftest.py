"""Fixtures: a fresh database per test on SQLite and on PostgreSQL, the app, an API client, a clock.

Every test that takes `app` runs once per backend. PostgreSQL comes from CONCORD_TEST_DATABASE_URL;
without it those runs skip with the reason, except in CI (CI=true) where a missing server fails.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from app import clock, create_app
from app.config import PROJECT_ROOT
from app.database import db
from app.services import demo
from app.services.accounts import users
from app.services.designer import deployments
from app.services.kernel import audit, calendars
from app.services.kernel.principals import Principal
from app.services.operations import schema

PASSWORD = "test-password-1"
PG_URL = os.environ.get("CONCORD_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
BUNDLE = {p.name: p.read_bytes() for d in ("processes", "forms") for p in sorted((PROJECT_ROOT / d).iterdir())
          if p.suffix in (".bpmn", ".dmn", ".json")}
OPERATOR = Principal("test-operator", "Test", frozenset({"admin"}), frozenset())
TABLES = ("audit_log", "audit_heads", "timers", "tasks", "parties", "cases", "process_instances",
          "process_definitions", "deployments", "counters", "users", "notifications", "calendar_years",
          "received_messages", "possible_duplicates", "login_sessions", "groups", "centres", "integration_keys",
          "login_failures", "incidents", "designer_drafts", "notification_reads", "attachments",
          "task_drafts")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    schema.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    """A private database for this test session, migrated, so that concurrent runs on one server never
    see each other's rows."""
    with private_postgres("concord_test") as url:
        schema.upgrade(url)
        yield url
        db.dispose()


@contextmanager
def private_postgres(prefix: str) -> Iterator[str]:
    """An empty database created next to CONCORD_TEST_DATABASE_URL's and dropped afterwards; without a
    server the test skips (and fails in CI, where PostgreSQL must run)."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but CONCORD_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need CONCORD_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server, wrong credentials
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "concord.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_ready")
    empty_postgres(url)
    return url


def empty_postgres(url: str) -> None:
    """Every table of the session's PostgreSQL database emptied. The audit tables refuse TRUNCATE by
    trigger (revision 0011); triggers do not fire in a session that replays as a replica: a superuser's
    right (the tests connect as one), for this transaction only."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    frozen = clock.FrozenClock(datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc))  # 09:30 in Shanghai, a Tuesday
    previous = clock.set_clock(frozen)
    yield frozen
    clock.set_clock(previous)


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url: str, frozen_clock: clock.FrozenClock,
        tmp_path: Path) -> Iterator[Any]:
    application = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                              "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "TESTING": True,
                              "ATTACHMENT_DIR": str(tmp_path / "attachments")})
    calendars.import_shipped()
    deployments.deploy(OPERATOR, dict(BUNDLE))
    demo.seed_users(PASSWORD)
    users.upsert_user("integration1", PASSWORD, display_name="法院/仲裁接口", roles=["integration"], groups=[])
    yield application
    # Whatever a test did, the audit log it leaves behind verifies (tests that forge entries say so).
    if "forges_audit" not in request.keywords:
        db.open(database_url)
        verification = audit.verify(OPERATOR)
        assert verification.intact, [str(b) for b in verification.breaks]


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class Api:
    """A thin API driver that logs in as demo users and fails loudly on unexpected statuses."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}
        self.language: str | None = None  # Accept-Language of every call (None: Chinese, the default)

    def headers(self, user: str) -> dict[str, str]:
        if user not in self._tokens:
            response = self.client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
            assert response.status_code == 200, response.get_json()
            self._tokens[user] = response.get_json()["token"]
        language = {"Accept-Language": self.language} if self.language else {}
        return {"Authorization": f"Bearer {self._tokens[user]}", **language}

    def call(self, method: str, user: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        response = self.client.open(f"/api/v1{path}", method=method, headers=self.headers(user), **kwargs)
        if response.status_code == 401 and "expired" in (response.get_json() or {}).get("detail", ""):
            self._tokens.pop(user)  # the test moved the clock past the token's lifetime: log in again
            response = self.client.open(f"/api/v1{path}", method=method, headers=self.headers(user), **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_json())
        return response.get_json()

    def get(self, user: str, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.call("GET", user, path, expect, **kw)

    def post(self, user: str, path: str, expect: int | None = 200, **kw: Any) -> Any:
        return self.call("POST", user, path, expect, **kw)

    # Journeys ------------------------------------------------------------------------------
    def register(self, user: str = "intake1", expect: int = 201, **fields: Any) -> Any:
        body = {"title": "邻里噪音纠纷", "description": "楼上夜间噪音扰民。", "source": "walk_in",
                "parties": [{"name": "张三", "role": "applicant", "phone": "13800138000",
                             "id_number": "11010519491231002X"}]}
        body.update(fields)
        return self.post(user, "/cases", expect, json=body)

    def task(self, case_id: int, name: str) -> dict[str, Any]:
        case = self.get("admin1", f"/cases/{case_id}")
        matches = [t for t in case["active_tasks"] if t["name"] == name]
        assert matches, f"no open {name} task; open: {[t['name'] for t in case['active_tasks']]}"
        return matches[0]

    def work(self, user: str, case_id: int, name: str, data: dict[str, Any], expect: int = 200) -> Any:
        """Claim and complete the case's open task `name` as `user`, as an officer would."""
        task = self.task(case_id, name)
        self.post(user, f"/tasks/{task['id']}/claim")
        return self.post(user, f"/tasks/{task['id']}/complete", expect, json={"data": data})


@pytest.fixture
def unwalked_deploys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deploys without the dry run, as versions deployed before it existed were: for tests of what happens
    when a deployed expression fails at run time (the dry run would refuse such a version now)."""
    from app.services.designer import dry_run

    monkeypatch.setattr(dry_run, "run_cached", lambda *args: {
        "paths": 0, "problems": [], "warnings": [], "coverage": {"elements": [], "reached": []}, "processes": [],
        "seconds": 0})


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`-m postgres` selects every test that runs on PostgreSQL: the PostgreSQL half of the tests that
    run on both databases, and those that need a private PostgreSQL database of their own."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgres = ("postgresql" in params.values() or "postgres_ready" in names
                       or item.get_closest_marker("drill") is not None)
        if on_postgres and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
