from __future__ import annotations

from flask import Response
from flask.typing import ResponseReturnValue

from app.services.designer import diagrams as diagram_service
from app.web.api.blueprint import bp
from app.web.api.support import authenticated, doc, principal
from app.web.security import source_hash

# Opened on its own, the SVG is a document: it may apply its own stylesheet and nothing else.
POLICY = f"default-src 'none'; style-src {source_hash(diagram_service.stylesheet())}; frame-ancestors 'none'"


def _svg(text: str) -> Response:
    response = Response(text, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Security-Policy"] = POLICY
    return response


@bp.get("/cases/<int:case_id>/diagram.svg")
@authenticated
@doc("The case's process diagram (SVG), completed and active elements marked", tag="cases",
     media=("image/svg+xml",), responses={200: "SVG", 404: "Unknown or invisible case",
                                          500: "The case's stored state does not load (process-failure; an "
                                               "incident on the escalation board)"})
def case_diagram(case_id: int) -> ResponseReturnValue:
    return _svg(diagram_service.case_diagram(principal(), case_id))


@bp.get("/process-definitions/<key>/<int:version>/diagram.svg")
@authenticated
@doc("A deployed version's diagram (SVG)", tag="process-definitions", media=("image/svg+xml",),
     responses={200: "SVG", 403: "Designers and supervisors only", 404: "Unknown version"})
def definition_diagram(key: str, version: int) -> ResponseReturnValue:
    return _svg(diagram_service.definition_diagram(principal(), key, version))
