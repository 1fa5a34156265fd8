"""JSON API, version 1 (see shared/design/api.md). Views parse input, call one service, shape output."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Routes register on import.
from app.web.api import (  # noqa: E402,F401
    auth,
    cases,
    definitions,
    diagrams,
    health,
    openapi,
    reports,
    supervision,
    tasks,
)
