"""Shared plumbing of the API views: authentication, JSON bodies, query parameters, OpenAPI notes."""
from __future__ import annotations

import json
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Response, g, jsonify, request

from app.database import db
from app.errors import BadRequest, Forbidden, Unauthenticated, UnsupportedMediaType
from app.forms.validation import any_text
from app.services.accounts import auth as auth_service
from app.services.kernel.principals import Principal
from app.web.arguments import bool_arg, int_arg  # noqa: F401  (the API views take them from here)

F = TypeVar("F", bound=Callable[..., Any])
# What a login may do while its password was reset by an administrator and not yet changed.
WHILE_PASSWORD_RESET = ("api.change_password", "api.logout")
# OpenAPI operation notes by endpoint name, filled by @doc and read by openapi.py.
OPERATIONS: dict[str, dict[str, Any]] = {}


def doc(summary: str, *, tag: str, body: str | None = None, responses: dict[int, str] | None = None,
        public: bool = False, query: tuple[str, ...] = (), answer: dict[Any, Any] | None = None,
        media: tuple[str, ...] = ("application/json",), path: dict[str, dict[str, Any]] | None = None,
        links: dict[int, dict[str, Any]] | None = None, download: bool = False,
        headers: dict[int, dict[str, Any]] | None = None) -> Callable[[F], F]:
    """What the OpenAPI document says of a view: `responses` its own statuses (those every operation of its
    kind can answer, 400, 401, 404, 411, 413, 415, are added by openapi.py), `answer` the JSON Schema of a
    success (app.web.api.schemas), `media` the media types a success comes in, `query` the query parameters
    (described in openapi.QUERY), `path` schemas of path parameters beyond what their converters say,
    `links` OpenAPI links by status to the operations its answer leads to (app.web.api.schemas.link),
    `download` an answer that comes as an attachment (Content-Disposition), `headers` the OpenAPI headers
    an answer carries, by status."""
    def decorate(view: F) -> F:
        OPERATIONS[f"api.{view.__name__}"] = {"summary": summary, "tag": tag, "body": body,
                                              "responses": responses or {200: "OK"}, "public": public,
                                              "query": query, "answer": answer, "media": media, "path": path or {},
                                              "links": links or {}, "download": download,
                                              "headers": headers or {}}
        return view
    return decorate


def authenticated(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send Authorization: Bearer <token> (POST /api/v1/auth/login)")
        g.token = token.strip()

        def work() -> Any:
            g.principal = auth_service.principal_from_token(g.token)
            if g.principal.must_change_password and request.endpoint not in WHILE_PASSWORD_RESET:
                raise Forbidden("change your password first: POST /api/v1/auth/password")
            return view(*args, **kwargs)
        # A connection lost before the request changed anything: once more (app.database).
        return db.retrying(work)
    return wrapper  # type: ignore[return-value]


def principal() -> Principal:
    return g.principal


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def json_body(require_object: bool = True) -> Any:
    # A body declared as something else (a form post, plain text) is refused rather than guessed at;
    # a body sent without any Content-Type is read as JSON.
    if request.headers.get("Content-Type") and not _is_json(request.mimetype):
        raise UnsupportedMediaType(f"send the body as application/json, not {request.mimetype}")
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("the request body is empty; send JSON")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_not_json)
        if "\\u" in text:  # an escaped lone surrogate decodes, then fails when stored
            json.dumps(value, ensure_ascii=False).encode("utf-8")
            if any_text(value, lambda text: "\x00" in text):  # PostgreSQL stores no NUL in text
                raise BadRequest("the request body contains a NUL (\\u0000) character")
    except UnicodeDecodeError as exc:
        raise BadRequest("the request body is not UTF-8") from exc
    except UnicodeEncodeError as exc:
        raise BadRequest("the request body contains an unpaired surrogate (\\ud800-\\udfff) escape") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except ValueError as exc:  # NaN or Infinity, an integer of thousands of digits
        if "digits" in str(exc):  # Python's own text names sys.set_int_max_str_digits(): not for a client
            raise BadRequest("malformed JSON: a number has more digits than any field accepts") from exc
        raise BadRequest(f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadRequest("malformed JSON: nested too deeply") from exc
    if require_object and not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    return value


def created(body: Any) -> tuple[Response, int]:
    return jsonify(body), 201


def no_content() -> Response:
    """A 204: no content, so no media type either (not werkzeug's default text/html)."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response
