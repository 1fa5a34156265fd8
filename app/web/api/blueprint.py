"""The API's blueprint, on its own so that the view modules of each domain can register on it without
importing each other (the package imports them all)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
