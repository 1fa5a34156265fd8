"""Concord: the Flask application factory. Configuration, extensions, blueprints, error handlers; no logic."""
from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import Flask

from app import clock
from app.config import PROJECT_ROOT, load_config
from app.database import db
from app.runtime import settings


def _local_secret_key() -> str:
    """Without CONCORD_SECRET_KEY, one key per installation, kept in instance/secret_key: every process
    on this machine (several server workers, the CLI) must sign and accept the same tokens."""
    path = PROJECT_ROOT / "instance" / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
        logging.getLogger(__name__).warning("CONCORD_SECRET_KEY is not set: created %s", path)
        return key


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    values = load_config(config)
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = _local_secret_key()
    app.config.update(values)
    settings.clear()
    settings.update(values)
    clock.set_zone(values["TIMEZONE"])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.init_app(app)

    from app.services.kernel import audit, definitions, directory, instances, revocation, throttle

    # Caches hold rows of one database by id; a (re)configured database starts them afresh.
    definitions.clear_caches()
    instances.cache.clear()
    directory.forget()
    audit.heads.clear()
    revocation.forget()
    throttle.public_lookups.forget()

    from app.web import problems, routing, security, ui
    from app.web.api.blueprint import bp as api

    routing.init_app(app)
    security.init_app(app)
    app.register_blueprint(api)
    problems.init_app(app)
    ui.init_app(app)
    return app
