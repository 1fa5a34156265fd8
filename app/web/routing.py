"""URL converters shared by the API and the pages."""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter


class BoundedInt(IntegerConverter):
    """`<int:...>` that matches only numbers a database integer column can hold: a larger id is
    unknown (404), never an overflow inside the driver (500)."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


def install(app: Flask) -> None:
    """Call before registering blueprints: rules pick their converters when added."""
    app.url_map.converters["int"] = BoundedInt
