"""File downloads shared by the API and the pages."""
from __future__ import annotations

import io

from flask import Response, send_file

from app.services.designer.sources import SourceFile


def attachment(file: SourceFile) -> Response:
    """`file` as a download under its own name (non-ASCII names spelled as RFC 6266 asks)."""
    response = send_file(io.BytesIO(file.content), mimetype=file.media_type, as_attachment=True,
                         download_name=file.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
