"""Concord: the Flask application factory. Configuration, extensions, blueprints, error handlers; no logic."""
from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask

from app.config import load_config
from app.extensions import db, settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    values = load_config(config)
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = secrets.token_urlsafe(32)
        logging.getLogger(__name__).info("CONCORD_SECRET_KEY is not set: tokens will not survive a restart")
    app.config.update(values)
    settings.clear()
    settings.update(values)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.configure(values["DATABASE_URL"], echo=values["SQL_ECHO"])

    from app.services import definitions, instances

    # Caches hold rows of one database by id; a (re)configured database starts them afresh.
    definitions.clear_caches()
    instances.cache.clear()

    from app.web import problems, ui
    from app.web.api import bp as api

    app.register_blueprint(api)
    problems.register(app)
    ui.init_app(app)
    return app
