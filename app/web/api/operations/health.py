from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from app.services.operations import health as health_service
from app.web.api.blueprint import bp
from app.web.api.schemas import ref
from app.web.api.support import doc


@bp.get("/health")
@doc("Liveness and database check", tag="health", public=True, answer={200: ref("Health"), 503: ref("Health")},
     responses={200: "Healthy", 503: "Database down (the same shape, status degraded)"})
def health() -> ResponseReturnValue:
    report = health_service.check()
    return jsonify(report), 200 if report["database"] == "ok" else 503
