"""The public progress page (一案一码): no login; case number and phone in, status and milestones out."""
from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import NotFound, TooManyRequests
from app.services.intake import progress as progress_service
from app.web.security import client_address
from app.web.ui.blueprint import bp
from app.web.ui.i18n import localise


@bp.get("/progress")
def progress() -> ResponseReturnValue:
    """A GET form (it changes nothing, so it needs no CSRF token and works without JavaScript); the phone
    is not written back into the page."""
    case_no = request.args.get("case_no", "").strip()[:32]
    phone = request.args.get("phone", "")
    found: dict[str, Any] | None = None
    error, status, headers = None, 200, {}
    if case_no or phone:
        try:
            answer = progress_service.lookup(case_no, phone, client_address())
        except NotFound:
            error, status = gettext("No case matches this case number and phone. Check both and try again: the "
                                    "phone is the one the applicant gave at registration."), 404
        except TooManyRequests as exc:
            error, status = gettext("Too many lookups from this address: try again in %(seconds)s seconds.",
                                    seconds=exc.retry_after), 429
            headers = {"Retry-After": str(exc.retry_after)}
        else:
            found = {"case_no": answer["case_no"], "status": localise(answer["status"]),
                     "milestones": [{"at": m["at"], "title": localise(m["title"])} for m in answer["milestones"]]}
    response = render_template("intake/progress.html", case_no=case_no, found=found, error=error)
    return response, status, headers
