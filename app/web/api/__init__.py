"""JSON API, version 1 (its contract: GET /api/v1/openapi.json). Views parse input, call one service, shape output."""
from __future__ import annotations

from app.web.api.blueprint import bp as bp

# Routes register on import, in this order (the OpenAPI document lists paths in it).
# isort: off
from app.web.api.accounts import auth  # noqa: F401
from app.web.api.intake import attachments, cases, progress  # noqa: F401
from app.web.api.designer import definitions, diagrams, drafts  # noqa: F401
from app.web.api.operations import health  # noqa: F401
from app.web.api import openapi  # noqa: F401
from app.web.api.reports import reports  # noqa: F401
from app.web.api.escalation import supervision  # noqa: F401
from app.web.api.inbox import tasks  # noqa: F401
from app.web.api.accounts import admin  # noqa: F401
from app.web.api.operations import instances  # noqa: F401
# isort: on
