"""RFC 9457 problem+json for every error on /api: domain errors, HTTP errors, and the unexpected."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from app.errors import Bilingual, ConcordError, DatabaseUnavailable, EngineFailure, ProcessInvalid, ValidationFailed

log = logging.getLogger(__name__)
TYPE_BASE = "https://concord.example/problems/"


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    body = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def retry_after() -> str:
    """Seconds a client should wait before retrying while the database is unavailable."""
    return str(current_app.config["DB_RETRY_AFTER_SECONDS"])


def _from_domain(exc: ConcordError) -> Response:
    if isinstance(exc, DatabaseUnavailable):
        # An outage, not a bug: the database layer logged its reason; the client is told when to retry.
        response = problem(exc.status, exc.title, exc.detail, exc.slug)
        response.headers["Retry-After"] = retry_after()
        return response
    extra: dict[str, Any] = {}
    detail = exc.detail
    if isinstance(exc, ValidationFailed):
        detail, extra["errors"] = _validation_in(_language(), exc)
    if isinstance(exc, ProcessInvalid):
        extra["errors"] = [{"file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message}
                           for p in exc.problems]
    if isinstance(exc, EngineFailure):
        # Where the process failed, and the incident the operators see it as on the escalation board.
        extra["element"] = exc.element
        if exc.incident is not None:
            extra["incident"] = exc.incident
    if exc.status >= 500:
        log.error("request failed: %s", exc.detail)
    response = problem(exc.status, exc.title, detail, exc.slug, **extra)
    wait = getattr(exc, "retry_after", None)  # a refusal for now (too many failed logins)
    if wait is not None:
        response.headers["Retry-After"] = str(int(wait))
    return response


def _language() -> str:
    """The language of validation messages: English when Accept-Language prefers it, else Chinese."""
    return str(request.accept_languages.best_match(("zh", "en"), default="zh"))


def _in(language: str, message: str) -> str:
    if isinstance(message, Bilingual):
        return message.en if language == "en" else message.zh
    return message


def _validation_in(language: str, exc: ValidationFailed) -> tuple[str, list[dict[str, str]]]:
    """A 422's detail and field messages in one language. A detail the service said in English only is,
    in Chinese, the field messages themselves (they are all Chinese and name their fields)."""
    errors = [{"field": e.field, "message": _in(language, e.message)} for e in exc.errors]
    detail = exc.detail
    if isinstance(detail, Bilingual):
        detail = _in(language, detail)
    elif language == "zh" and errors:
        detail = "；".join(e["message"] for e in errors)
    return detail, errors


def from_http(exc: HTTPException) -> Response:
    """An HTTP error (unknown route, method not allowed, body too large) as problem+json."""
    code = exc.code or 500
    slug = (exc.name or "error").lower().replace(" ", "-")
    return with_allow(exc, problem(code, exc.name or "Error", exc.description or "", slug))


def with_allow(exc: HTTPException, response: Response) -> Response:
    """A 405 names the methods the resource does answer (RFC 9110 section 15.5.6), as werkzeug's own does."""
    for name, value in exc.get_headers():
        if name.lower() == "allow":
            response.headers["Allow"] = value
    return response


def _from_http(exc: HTTPException) -> Response | HTTPException:
    return from_http(exc) if request.path.startswith("/api/") else exc


def unexpected(exc: Exception) -> Response:
    # Never a stack trace to the client; the log has it.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged", "internal")


def init_app(app: Flask) -> None:
    app.register_error_handler(ConcordError, _from_domain)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(Exception, unexpected)
