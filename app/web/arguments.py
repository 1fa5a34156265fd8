"""Query-string arguments read the same way by the API and the pages (a bad one is a 422 naming it)."""
from __future__ import annotations

from flask import request

from app.errors import Bilingual, FieldError, ValidationFailed


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationFailed(f"query parameter {name} must be an integer",
                               [FieldError(name, Bilingual("必须是整数", "must be an integer"))]) from exc


def bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed(f"query parameter {name} must be true or false",
                           [FieldError(name, Bilingual("必须是 true 或 false", "must be true or false"))])
