"""Migrations carry existing data forward (and back), on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from app.services import schema
from tests.conftest import IN_CI, PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (migrations need a database nothing else has touched)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but CONCORD_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need CONCORD_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"concord_migration_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_cases_registered_before_reception_times_were_kept_were_received_when_registered(blank_url: str) -> None:
    schema.upgrade(blank_url, "0005")
    engine = create_engine(blank_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (case_no, title, description, source, urgency, status, reopen_count, created_by, "
            "created_at, updated_at) VALUES ('ZZ-2026-000001', 't', 'd', 'walk_in', 'normal', 'registered', 0, "
            "'intake1', '2026-11-20 02:00:00+00:00', '2026-11-20 02:00:00+00:00')"))
    engine.dispose()
    schema.upgrade(blank_url)
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        created, received = conn.execute(text("SELECT created_at, received_at FROM cases")).one()
        assert received == created and received is not None
    engine.dispose()
    schema.downgrade(blank_url, "0005")  # and back: the column goes, the case stays
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT case_no FROM cases")).scalar_one() == "ZZ-2026-000001"
    engine.dispose()
