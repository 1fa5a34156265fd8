"""A scratch PostgreSQL database for a benchmark: created beside the given URL's, dropped afterwards,
so that nothing else on the server is touched."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text


@contextmanager
def scratch_database(server_url: str) -> Iterator[tuple[str, str]]:
    """Yields (URL of the scratch database, server version)."""
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"concord_bench_{uuid.uuid4().hex[:8]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        version = conn.execute(text("SHOW server_version")).scalar_one()
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False), version
    finally:
        from app.database import db

        db.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
