"""Server-rendered pages for officers, supervisors and designers (Chinese first, English switchable).

Views parse the form, call the same services as the JSON API and render a template; no business rules here.
"""
from __future__ import annotations

from flask import Flask

from app.web.ui.blueprint import bp


def init_app(app: Flask) -> None:
    from app.web.ui import i18n, support

    i18n.init_app(app)
    support.init_app(app)
    app.register_blueprint(bp)


from app.errors import ConcordError  # noqa: E402
from app.web.ui.accounts import account, admin  # noqa: E402,F401  (routes register)
from app.web.ui.designer import designer, workbench  # noqa: E402,F401  (routes register)
from app.web.ui.escalation import notes, supervisor  # noqa: E402,F401  (routes register)
from app.web.ui.inbox import inbox  # noqa: E402,F401  (routes register)
from app.web.ui.intake import cases, progress  # noqa: E402,F401  (routes register)
from app.web.ui.operations import operations  # noqa: E402,F401  (routes register)
from app.web.ui.reports import reports  # noqa: E402,F401  (routes register)
from app.web.ui.support import on_domain_error  # noqa: E402

bp.register_error_handler(ConcordError, on_domain_error)
