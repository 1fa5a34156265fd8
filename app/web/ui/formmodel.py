"""JSON Schema + UI schema → the fields a page draws, and a posted HTML form → the JSON data to submit.

Field names are the validator's paths (`title`, `location.grid`, `parties[0].phone`), so a validation
error lands next to its field, and what was typed is drawn again as typed."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from app.errors import Bilingual

_ROW = re.compile(r"^(?P<base>.+)\[(?P<index>\d+)\]\.")


@dataclass
class Field:
    name: str
    key: str
    title: str
    widget: str  # text, textarea, number, date, datetime, select, radio, boolean, checkboxes, object, array
    required: bool = False
    help: str | None = None
    placeholder: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    children: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)
    template: list[Field] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)


def _order(schema: dict[str, Any], ui: dict[str, Any]) -> list[str]:
    keys = list(schema.get("properties", {}))
    order = [k for k in ui.get("ui:order", []) if k in keys]
    return order + [k for k in keys if k not in order]


def _options(spec: dict[str, Any], ui: dict[str, Any]) -> list[tuple[str, str]]:
    values = spec.get("enum", [])
    labels = ui.get("ui:enumNames") or spec.get("x-enumNames") or [str(v) for v in values]
    return [(str(v), str(label)) for v, label in zip(values, labels, strict=False)]


def _widget(spec: dict[str, Any], ui: dict[str, Any]) -> str:
    kind = spec.get("type")
    chosen = ui.get("ui:widget")
    if kind == "object":
        return "object"
    if kind == "array":
        items = spec.get("items", {})
        return "checkboxes" if isinstance(items, dict) and "enum" in items else "array"
    if kind == "boolean":
        return "checkbox" if chosen == "checkbox" else "boolean"
    if "enum" in spec:
        return "radio" if chosen == "radio" else "select"
    if kind in ("number", "integer"):
        return "number"
    if spec.get("format") == "date":
        return "date"
    if spec.get("format") == "date-time":
        return "datetime"
    return chosen if chosen in ("textarea", "hidden", "password") else "text"


def build(schema: dict[str, Any], ui: dict[str, Any] | None, data: Any, errors: dict[str, str],
          prefix: str = "") -> list[Field]:
    """The fields of object `schema`, filled from `data`, with `errors` by path."""
    ui = ui or {}
    values = data if isinstance(data, dict) else {}
    required = set(schema.get("required", []))
    fields = []
    for key in _order(schema, ui):
        spec = schema["properties"][key]
        if not isinstance(spec, dict):
            continue
        fields.append(_field(spec, ui.get(key) or {}, values.get(key), errors, f"{prefix}{key}", key,
                             key in required))
    return fields


def _field(spec: dict[str, Any], ui: dict[str, Any], value: Any, errors: dict[str, str], name: str, key: str,
           required: bool) -> Field:
    widget = _widget(spec, ui)
    if value is None and "default" in spec and widget not in ("array", "object"):
        value = spec["default"]
    item = Field(name=name, key=key, title=str(spec.get("title") or key), widget=widget, required=required,
                 help=ui.get("ui:help") or spec.get("description"), placeholder=ui.get("ui:placeholder"),
                 options=_options(spec, ui), value=value, error=errors.get(name))
    if widget == "boolean":
        names = ui.get("ui:enumNames") or []
        item.options = [("true", str(names[0])), ("false", str(names[1]))] if len(names) >= 2 else []
    elif widget == "checkboxes":
        item.options = _options(spec["items"], ui.get("items") or {})
    elif widget == "object":
        item.children = build(spec, ui, value, errors, prefix=f"{name}.")
    elif widget == "array":
        items_spec, items_ui = spec.get("items", {}), ui.get("items") or {}
        rows = value if isinstance(value, list) else []
        if not rows:
            rows = [{}] * max(1, int(spec.get("minItems", 0) or 0))
        item.rows = [build(items_spec, items_ui, row, errors, prefix=f"{name}[{i}].") for i, row in enumerate(rows)]
        item.template = build(items_spec, items_ui, {}, {}, prefix=f"{name}[__index__].")
    for limit in ("minimum", "maximum", "maxLength", "minLength"):
        if limit in spec:
            item.attrs[limit] = spec[limit]
    if spec.get("type") == "integer":
        item.attrs["step"] = 1
    return item


# Posted form → data ----------------------------------------------------------------------

def parse(schema: dict[str, Any], form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(data, errors) from a posted form; errors are values that are not even of the right kind
    (a word in a number field): they are kept as typed so the page can show them again."""
    errors: dict[str, str] = {}
    data = _parse_object(schema, form, "", errors)
    return data or {}, errors


def _parse_object(schema: dict[str, Any], form: MultiDict[str, str], prefix: str,
                  errors: dict[str, str]) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    for key, spec in schema.get("properties", {}).items():
        if not isinstance(spec, dict):
            continue
        value = _parse_value(spec, form, f"{prefix}{key}", errors)
        if value is not None:
            result[key] = value
    return result or None


def _parse_value(spec: dict[str, Any], form: MultiDict[str, str], name: str, errors: dict[str, str]) -> Any:
    kind = spec.get("type")
    if kind == "object":
        return _parse_object(spec, form, f"{name}.", errors)
    if kind == "array":
        items = spec.get("items", {})
        if isinstance(items, dict) and "enum" in items:
            return [v for v in form.getlist(name) if v] or None
        indices = sorted({int(m.group("index")) for k in form for m in [_ROW.match(k)]
                          if m and m.group("base") == name})
        rows = [_parse_object(items, form, f"{name}[{i}].", errors) for i in indices]
        return [row for row in rows if row] or None
    raw = form.get(name, "")
    text = raw.strip() if spec.get("format") != "password" else raw
    if text == "":
        return None
    if kind == "boolean":
        return {"true": True, "on": True, "false": False}.get(text, text)
    if kind in ("number", "integer"):
        label = str(spec.get("title") or name)
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not math.isfinite(number):  # a word, or digits past any number a field takes
            errors[name] = Bilingual(f"「{label}」请输入数字", f"{label}: enter a number")
            return text
        return int(number) if kind == "integer" and number.is_integer() else number
    return text

