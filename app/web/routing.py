"""URL converters and request rules shared by the API and the pages."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, LengthRequired, NotFound
from werkzeug.routing import IntegerConverter

LARGEST = 2**63 - 1  # what a database integer column can hold
F = TypeVar("F", bound=Callable[..., Any])
# Room for what a multipart body carries besides the file: boundaries, part headers, the CSRF field.
MULTIPART_ROOM = 64 * 1024


class BoundedInt(IntegerConverter):
    """`<int:...>` for numbers a database integer column can hold: a larger one names nothing (404), never
    an overflow inside the driver (500). It answers 404 itself rather than failing the match: a failed
    match on a path that has rules for other methods would answer 405 (werkzeug counts the other
    methods' rules as matches)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > LARGEST:
            raise NotFound()
        return number


def _require_length() -> None:
    """A body sent in chunks has no length to hold against the size limit, and the server would cut it
    at the limit silently (a truncated body reads as malformed JSON, a cut upload as a broken file):
    such bodies are refused up front with a clear 411."""
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower() and request.content_length is None:
        raise LengthRequired("send the body with a Content-Length header (chunked bodies are not accepted)")


def body_limit(setting: str) -> Callable[[F], F]:
    """Let the view's requests be as large as the setting `setting` (a file size) allows, when that is more
    than CONCORD_MAX_BODY_BYTES: an attachment may be larger than any JSON body."""
    def mark(view: F) -> F:
        view.body_limit_setting = setting  # type: ignore[attr-defined]
        return view
    return mark


def _raise_body_limit() -> None:
    """Before anything reads the body (_refuse_nul reads forms)."""
    view = current_app.view_functions.get(request.endpoint or "")
    setting = getattr(view, "body_limit_setting", None)
    if setting:
        request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"] or 0,
                                         int(current_app.config[setting]) + MULTIPART_ROOM)


def _refuse_nul() -> None:
    """A NUL character cannot be stored in PostgreSQL text (nor shown): refused in query strings and
    submitted forms as in JSON bodies, with a 400 instead of a failing INSERT."""
    values = [*request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.values()
    if any("\x00" in value for value in values):
        raise BadRequest("the request contains a NUL (%00) character")


def init_app(app: Flask) -> None:
    """Call before registering blueprints: rules pick their converters when added."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_require_length)
    app.before_request(_raise_body_limit)
    app.before_request(_refuse_nul)
