from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from app.services.operations import health as health_service
from app.web.api.blueprint import bp
from app.web.api.schemas import RETRY_AFTER, ref
from app.web.api.support import doc
from app.web.problems import retry_after


@bp.get("/health")
@doc("Liveness and database check (answers within about a second, whatever the database does)", tag="health",
     public=True, answer={200: ref("Health"), 503: ref("Health")},
     responses={200: "Healthy", 503: "Database unavailable (the same shape: status degraded, database unavailable)"},
     headers={503: {"Retry-After": RETRY_AFTER}})
def health() -> ResponseReturnValue:
    report = health_service.check()
    if report["database"] == "ok":
        return jsonify(report), 200
    return jsonify(report), 503, {"Retry-After": retry_after()}
