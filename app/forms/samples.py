"""Form data generated from a form's JSON Schema, for the designer's dry run: one complete submission
(every field filled, required or not) and, for each choice the form offers, the same submission with
that one choice changed: each enum value (narrowed by `x-enum-from` as the form narrows it for the
case) and each boolean. Varying one field at a time keeps a route's paths few (the sum, not the
product, of its choices) while every value is still tried on some path."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.forms.validation import _allowed

Sample = tuple[str, dict[str, Any]]  # (what was chosen, e.g. "category=labor" or "" for the base, the data)
_TEXT = "试运行"
# Values of the formats Concord's forms use, and texts tried against a field's pattern, in order.
_FORMATS = {"cn-phone": "13800138000", "cn-id-number": "11010519491231002X", "email": "dry.run@example.org",
            "uri": "https://example.org/dry-run", "time": "09:00:00"}
_PATTERN_TRIES = ("DRY-RUN-1", "dry_run_1", "1", "A1", "13800138000", "2026-12-01", "a", "A", "x1")
_ABSENT = object()


def _type(spec: dict[str, Any]) -> str:
    kind = spec.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return str(kind)


def _choices(spec: dict[str, Any], context: dict[str, Any]) -> list[Any]:
    """The values a user may pick for the field, in the schema's order."""
    if "const" in spec:
        return [spec["const"]]
    values = list(spec.get("enum") or [])
    if not values:
        values = [option["const"] for option in spec.get("oneOf") or spec.get("anyOf") or []
                  if isinstance(option, dict) and "const" in option]
    allowed = _allowed(spec, context) if "x-enum-from" in spec else None
    if allowed is not None:
        values = [v for v in values if v in allowed] if values else allowed
    if not values and _type(spec) == "boolean":
        values = [spec.get("default", False), not spec.get("default", False)]
    return values


def value(spec: Any, context: dict[str, Any], today: date) -> Any:
    """A valid-looking value of the field: its default, its first choice, else one of its type."""
    if not isinstance(spec, dict):
        return _TEXT
    choices = _choices(spec, context)
    if "default" in spec and (not choices or spec["default"] in choices):
        return spec["default"]
    if choices:
        return choices[0]
    if spec.get("examples"):
        return spec["examples"][0]
    kind = _type(spec)
    if kind == "object":
        return {name: value(sub, context, today) for name, sub in (spec.get("properties") or {}).items()}
    if kind == "array":
        return [value(spec.get("items") or {}, context, today) for _ in range(max(1, spec.get("minItems", 1)))]
    if kind in ("integer", "number"):
        low = spec.get("minimum", spec.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in spec else 1)
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if spec.get("format") in _FORMATS:
        return _FORMATS[spec["format"]]
    if spec.get("pattern"):
        try:
            pattern = re.compile(spec["pattern"])
        except re.error:
            pattern = None
        match = next((t for t in _PATTERN_TRIES if pattern and pattern.search(t)), None)
        if match is not None:
            return match
    if spec.get("format") == "date":
        return today.isoformat()
    if spec.get("format") == "date-time":
        return f"{today.isoformat()}T09:00:00+08:00"
    return (_TEXT * (1 + int(spec.get("minLength", 0)) // len(_TEXT)))[:max(len(_TEXT), spec.get("minLength", 0))]


def samples(schema: dict[str, Any], context: dict[str, Any], today: date, empty: Any = _ABSENT,
            read: set[str] | None = None) -> list[Sample]:
    """The base submission, then one per other choice of each field that offers choices, and one per
    optional field left empty (absent from the data, or `empty` where the caller fills it in as intake
    does with None). Only fields in `read` vary, when given: a value nothing reads changes no path."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    base = {name: value(spec, context, today) for name, spec in properties.items()}
    found: list[Sample] = [("", base)]
    for name, spec in properties.items():
        if not isinstance(spec, dict) or (read is not None and name not in read):
            continue
        for choice in _choices(spec, context):
            if choice != base[name]:
                found.append((f"{name}={choice}", {**base, name: choice}))
        if name not in required:
            rest = {k: v for k, v in base.items() if k != name}
            found.append((f"{name}=∅", rest if empty is _ABSENT else {**rest, name: empty}))
    return found
