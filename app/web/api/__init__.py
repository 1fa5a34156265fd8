"""JSON API, version 1 (see shared/design/api.md). Views parse input, call one service, shape output."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Routes register on import, in this order (the OpenAPI document lists paths in it).
from app.web.api.accounts import auth  # noqa: E402,F401,I001
from app.web.api.intake import cases  # noqa: E402,F401
from app.web.api.designer import definitions, diagrams  # noqa: E402,F401
from app.web.api.operations import health  # noqa: E402,F401
from app.web.api import openapi  # noqa: E402,F401
from app.web.api.reports import reports  # noqa: E402,F401
from app.web.api.escalation import supervision  # noqa: E402,F401
from app.web.api.inbox import tasks  # noqa: E402,F401
