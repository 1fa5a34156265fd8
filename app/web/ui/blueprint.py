"""The pages' blueprint, on its own so that the page modules of each domain can register on it without
importing each other (the package imports them all)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/ui-static")
