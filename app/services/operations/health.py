"""Liveness: does the database answer, is the timer scheduler running. Bounded in time: the database is
asked through `db.probe()` (a fresh connection, at most DB_PROBE_TIMEOUT_SECONDS, one probe at a time per
process), never through the pool, which a stalled database may hold."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from app.database import db
from app.runtime import scheduler_state


def _version() -> str:
    try:
        return version("concord")
    except PackageNotFoundError:
        return "dev"


def check() -> dict[str, Any]:
    database = "ok" if db.probe() else "unavailable"
    return {"status": "ok" if database == "ok" else "degraded", "database": database,
            "scheduler": scheduler_state(), "version": _version()}
