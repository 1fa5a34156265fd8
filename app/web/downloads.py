"""File downloads shared by the API and the pages."""
from __future__ import annotations

import io
from typing import Protocol

from flask import Response, send_file


class Download(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def content(self) -> bytes: ...
    @property
    def media_type(self) -> str: ...


def attachment(file: Download) -> Response:
    """`file` as a download under its own name (non-ASCII names spelled as RFC 6266 asks), never to be
    read as another type than it was given (nosniff)."""
    response = send_file(io.BytesIO(file.content), mimetype=file.media_type, as_attachment=True,
                         download_name=file.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
