"""What a refused form field is told, in Chinese and English: the field named by its form label, the rule
said in words. Never the submitted value and never jsonschema's own text, which repeats the value
(`'x' is too short`, `[{'name': '王五', ...}] does not contain items matching...`: personal data) and
speaks Python (`True was expected`)."""
from __future__ import annotations

from typing import Any

from app.errors import Bilingual
from app.forms.labels import enum_names, label_at, spec_at

_KINDS = {"string": ("文字", "text"), "number": ("数字", "a number"), "integer": ("整数", "a whole number"),
          "boolean": ("“是”或“否”", "yes or no"), "array": ("列表", "a list"),
          "object": ("一组字段", "a group of fields"), "null": ("空值", "empty")}
_FORMATS = {"date": ("日期（如 2026-12-01）", "a date such as 2026-12-01"),
            "date-time": ("日期和时间", "a date and time"), "email": ("电子邮箱地址", "an e-mail address"),
            "time": ("时间", "a time")}


def _number(value: Any) -> str:
    """1000000000000.0 → "1,000,000,000,000", not "1e+12"."""
    if isinstance(value, (int, float)) and float(value).is_integer():
        return f"{int(value):,}"
    return str(value)


def field_message(label: str, zh: str, en: str) -> Bilingual:
    return Bilingual(f"「{label}」{zh}", f"{label}: {en}")


def _kinds(value: Any) -> tuple[str, str]:
    names = [value] if isinstance(value, str) else list(value or [])
    known = [_KINDS.get(str(n), (str(n), str(n))) for n in names]
    return "或".join(k[0] for k in known), " or ".join(k[1] for k in known)


def _choices(spec: dict[str, Any]) -> tuple[str, str]:
    """The choices by their names (a form without names shows its values: they are then all it has)."""
    names = enum_names(spec) or {v: str(v) for v in spec.get("enum") or []}
    text = "、".join(names.values())
    return text, ", ".join(names.values())


def _contains(error: Any, schema: dict[str, Any], path: list[Any], label: str) -> Bilingual:
    """`contains` as the rule it states: "当事人中至少要有一位「角色」为「申请人」"."""
    wanted = error.validator_value if isinstance(error.validator_value, dict) else {}
    items = spec_at(schema, path).get("items") or {}
    for key, rule in (wanted.get("properties") or {}).items():
        if isinstance(rule, dict) and "const" in rule:
            field = (items.get("properties") or {}).get(key) or {}
            name = enum_names(field).get(rule["const"], str(rule["const"]))
            title = str(field.get("title") or key)
            return field_message(label, f"中至少要有一项「{title}」为「{name}」",
                                 f"needs at least one entry whose {title} is {name}")
    return field_message(label, "中缺少符合要求的项", "lacks an entry the form requires")


def describe(error: Any, path: list[Any], schema: dict[str, Any], ui: dict[str, Any] | None) -> Bilingual:
    """The message of one jsonschema error at `path` (the missing field's path for `required`)."""
    label = label_at(schema, ui, path)
    kind, rule = error.validator, error.validator_value
    spec = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        return field_message(label, "为必填项", "is required")
    if kind == "minLength" and error.instance == "":
        return field_message(label, "不能为空", "must not be empty or only spaces")
    if kind == "minLength":
        return field_message(label, f"至少需要 {rule} 个字", f"needs at least {rule} characters")
    if kind == "maxLength":
        return field_message(label, f"最多 {rule} 个字", f"may have at most {rule} characters")
    if kind == "type":
        zh, en = _kinds(rule)
        return field_message(label, f"应填写{zh}", f"must be {en}")
    if kind == "enum":
        zh, en = _choices(spec_at(schema, path) or spec)
        return field_message(label, f"只能选择：{zh}", f"choose one of: {en}")
    if kind in ("const", "not") and spec.get("description"):
        return field_message(label, f"：{spec['description']}", f"not allowed here ({spec['description']})")
    if kind == "const":
        return field_message(label, "在此情况下不可这样填写", "is not allowed with the other answers given")
    if kind == "format":
        zh, en = _FORMATS.get(str(rule), ("正确的格式", "in the right format"))
        return field_message(label, f"应为{zh}", f"must be {en}")
    if kind == "pattern":
        return field_message(label, "格式不正确（只能包含字母、数字和 _ . : -）" if "A-Za-z0-9" in str(rule)
                             else "格式不正确", "is not in the required format")
    if kind in ("minimum", "exclusiveMinimum"):
        return field_message(label, f"不能小于{'或等于' if kind == 'exclusiveMinimum' else ''} {_number(rule)}",
                             f"must be {'more than' if kind == 'exclusiveMinimum' else 'at least'} {_number(rule)}")
    if kind in ("maximum", "exclusiveMaximum"):
        return field_message(label, f"不能大于{'或等于' if kind == 'exclusiveMaximum' else ''} {_number(rule)}",
                             f"must be {'less than' if kind == 'exclusiveMaximum' else 'at most'} {_number(rule)}")
    if kind == "minItems":
        return field_message(label, f"至少需要 {rule} 项", f"needs at least {rule} entries")
    if kind == "maxItems":
        return field_message(label, f"最多 {rule} 项", f"may have at most {rule} entries")
    if kind == "contains":
        return _contains(error, schema, path, label)
    if kind in ("additionalProperties", "unevaluatedProperties"):
        return field_message(label, "含有表单未声明的项", "has entries the form does not declare")
    if kind == "uniqueItems":
        return field_message(label, "中有重复的项", "has repeated entries")
    return field_message(label, "的填写不符合要求", "is not filled in as the form requires")
