"""What a form's codes and fields are called: labels from the schema's and UI schema's titles, enum
values by their names (x-enumNames / ui:enumNames), amounts as money. Pages, the task's history and the
validation messages all name things this way, so an officer never reads `mediation_failed` or "3600.0".
No database, no Flask."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

YES_NO = ("是", "否")


def spec_at(schema: dict[str, Any], path: list[Any]) -> dict[str, Any]:
    """The sub-schema of the value at `path` (object keys and array indices); {} when it has none."""
    spec: Any = schema
    for part in path:
        if not isinstance(spec, dict):
            return {}
        if isinstance(part, int):
            spec = spec.get("items", {})
        else:
            spec = spec.get("properties", {}).get(part, {})
    return spec if isinstance(spec, dict) else {}


def ui_at(ui: dict[str, Any] | None, path: list[Any]) -> dict[str, Any]:
    node: Any = ui or {}
    for part in path:
        if not isinstance(node, dict):
            return {}
        node = node.get("items", {}) if isinstance(part, int) else node.get(part, {})
    return node if isinstance(node, dict) else {}


def label_at(schema: dict[str, Any], ui: dict[str, Any] | None, path: list[Any]) -> str:
    """The field's label as the form shows it: "当事人 第1项 · 电话" for parties[0].phone."""
    words: list[str] = []
    for depth, part in enumerate(path):
        if isinstance(part, int):
            words.append(f"第{part + 1}项")
            continue
        here = path[:depth + 1]
        title = ui_at(ui, here).get("ui:title") or spec_at(schema, here).get("title")
        words.append(str(title or part))
    return " · ".join(words) if words else str(schema.get("title") or "表单")


def enum_names(spec: dict[str, Any], ui: dict[str, Any] | None = None) -> dict[Any, str]:
    values = spec.get("enum") or []
    names = (ui or {}).get("ui:enumNames") or spec.get("x-enumNames") or []
    return {value: str(name) for value, name in zip(values, names, strict=False)}


def is_money(spec: dict[str, Any]) -> bool:
    """A number field holding yuan: marked `"x-money": true`, or titled as an amount (涉及金额（元）)."""
    return spec.get("type") in ("number", "integer") and bool(spec.get("x-money") or "金额" in str(spec.get("title")))


def money(value: Any) -> str:
    """3600.0 → "3,600.00 元"."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    return f"{amount:,.2f} 元"


def display(spec: dict[str, Any], ui: dict[str, Any] | None, value: Any) -> str:
    """One recorded value as people read it."""
    if value is None or value == "":
        return "—"
    names = enum_names(spec, ui)
    if isinstance(value, bool):
        choices = (ui or {}).get("ui:enumNames")
        pair = (str(choices[0]), str(choices[1])) if isinstance(choices, list) and len(choices) >= 2 else YES_NO
        return pair[0] if value else pair[1]
    if names and not isinstance(value, (list, dict)):
        return names.get(value, str(value))
    if isinstance(value, (int, float)) and is_money(spec):
        return money(value)
    if isinstance(value, list):
        item_spec, item_ui = spec.get("items") or {}, (ui or {}).get("items") or {}
        return "；".join(display(item_spec, item_ui, item) for item in value)
    if isinstance(value, dict):
        parts = [f"{row['label']}：{row['text']}" for row in labelled_values(spec, ui, value)]
        return "，".join(parts)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def labelled_values(schema: dict[str, Any], ui: dict[str, Any] | None, data: Any) -> list[dict[str, Any]]:
    """The form's filled fields in the form's order: [{"field", "label", "value", "text"}]."""
    if not isinstance(data, dict):
        return []
    properties = schema.get("properties") or {}
    order = [k for k in (ui or {}).get("ui:order", []) if k in properties]
    order += [k for k in properties if k not in order]
    order += [k for k in data if k not in properties]  # a field of an older form version
    rows = []
    for key in order:
        if key not in data or data[key] is None or data[key] == "":
            continue
        spec = properties.get(key) or {}
        spec = spec if isinstance(spec, dict) else {}
        sub_ui = ui_at(ui, [key])
        rows.append({"field": key, "label": str(sub_ui.get("ui:title") or spec.get("title") or key),
                     "value": data[key], "text": display(spec, sub_ui, data[key])})
    return rows
