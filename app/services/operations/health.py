from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.database import db
from app.runtime import scheduler_state

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("concord")
    except PackageNotFoundError:
        return "dev"


def check() -> dict[str, Any]:
    try:
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        database = "unreachable"
    return {"status": "ok" if database == "ok" else "degraded", "database": database,
            "scheduler": scheduler_state(), "version": _version()}
