"""The public progress lookup (一案一码): no login, an applicant's case number and phone."""
from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import Bilingual, NotFound
from app.services.intake import progress as progress_service
from app.web.api.blueprint import bp
from app.web.api.schemas import ref
from app.web.api.support import doc
from app.web.security import client_address


@bp.get("/public/progress")
@doc("Where a case is, for its applicant (一案一码): status and public milestones, no personal data", tag="public",
     public=True, query=("case_no", "phone"), answer=ref("PublicProgress"),
     responses={200: "The case's status and milestones, in the language of Accept-Language",
                404: "No case with this number has an applicant with this phone (also for an unknown number: "
                     "the answers do not tell them apart)",
                429: "Too many lookups from this client address within a minute; Retry-After says when to retry"},
     headers={429: {"Retry-After": {"required": True, "description": "seconds until this address may look up again",
                                    "schema": {"type": "integer", "minimum": 1}}}})
def public_progress() -> ResponseReturnValue:
    language = str(request.accept_languages.best_match(("zh", "en"), default="zh"))
    try:
        found = progress_service.lookup(request.args.get("case_no"), request.args.get("phone"),
                                        client_address())
    except NotFound as exc:
        raise NotFound(_in(language, exc.detail)) from None
    return jsonify({"case_no": found["case_no"], "status": _in(language, found["status"]),
                    "milestones": [{"at": m["at"], "title": _in(language, m["title"])} for m in found["milestones"]]})


def _in(language: str, text: str) -> str:
    if isinstance(text, Bilingual):
        return text.en if language == "en" else text.zh
    return text
