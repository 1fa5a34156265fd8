"""Validate form submissions against a deployed JSON Schema, with field paths users can act on."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from app.errors import Bilingual, FieldError, ProblemLocation
from app.forms.fastcheck import compile_test
from app.forms.formats import checker
from app.forms.labels import enum_names, label_at
from app.forms.messages import describe, field_message


@dataclass(frozen=True)
class FormBundle:
    key: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any]
    validator: Any = field(default=None, compare=False, repr=False)

    def validate(self, data: Any, context: dict[str, Any] | None = None,
                 today: Callable[[], date] | None = None) -> list[FieldError]:
        return validate_submission(self.schema, data, self.validator, context, today, self.ui_schema)

    def for_context(self, context: dict[str, Any]) -> dict[str, Any]:
        """The schema as the user should see it: enums narrowed by `x-enum-from` to what the process allows."""
        properties = self.schema.get("properties", {})
        narrowed = {name: _narrow(spec, context) for name, spec in properties.items()
                    if isinstance(spec, dict) and "x-enum-from" in spec}
        return {**self.schema, "properties": {**properties, **narrowed}} if narrowed else self.schema


def _allowed(spec: dict[str, Any], context: dict[str, Any]) -> list[Any] | None:
    """The values `x-enum-from` allows: the process variable's list, or its one value (a message about
    the channel the case is in must name that channel)."""
    values = context.get(spec.get("x-enum-from", ""))
    if isinstance(values, (list, tuple)):
        return list(values)
    return [values] if isinstance(values, (str, int)) and not isinstance(values, bool) else None


def _narrow(spec: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    allowed = _allowed(spec, context)
    if allowed is None or "enum" not in spec:
        return spec
    names = dict(zip(spec["enum"], spec.get("x-enumNames", spec["enum"]), strict=False))
    return {**spec, "enum": [v for v in spec["enum"] if v in allowed],
            "x-enumNames": [names[v] for v in spec["enum"] if v in allowed]}


class CompiledForm:
    """A form schema's jsonschema validator behind its compiled validity test (app.forms.fastcheck):
    valid data passes the test alone; anything else gets jsonschema's full list of errors."""

    __slots__ = ("validator", "test")

    def __init__(self, schema: dict[str, Any]) -> None:
        self.validator = Draft202012Validator(schema, format_checker=checker)
        self.test = compile_test(schema, checker)

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        if self.test is not None and self.test(instance):
            return iter(())
        return self.validator.iter_errors(instance)


def compile_validator(schema: dict[str, Any]) -> CompiledForm:
    """Building a validator is far costlier than running it: build once per deployed form."""
    return CompiledForm(schema)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def any_text(value: Any, test: Callable[[str], bool]) -> bool:
    """Whether a text anywhere in the JSON value `value` (object keys included) passes `test`."""
    if isinstance(value, str):
        return test(value)
    if isinstance(value, dict):
        return any(test(key) or any_text(item, test) for key, item in value.items())
    if isinstance(value, list):
        return any(any_text(item, test) for item in value)
    return False


def _blank(text: str) -> bool:
    return bool(text) and text.isspace()


def _blanks_emptied(value: Any) -> Any:
    if isinstance(value, str):
        return "" if value.isspace() else value
    if isinstance(value, dict):
        return {key: _blanks_emptied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_blanks_emptied(item) for item in value]
    return value


def validate_submission(schema: dict[str, Any], data: Any, validator: Any = None,
                        context: dict[str, Any] | None = None,
                        today: Callable[[], date] | None = None,
                        ui: dict[str, Any] | None = None) -> list[FieldError]:
    """Every problem of `data` against `schema`. Top-level fields the form does not declare, and keys
    starting with `__`, are refused here whatever the schema says: they would otherwise become
    process variables (and overwrite a time limit or a routing decision). A date field marked
    `"x-not-after-today": true` (the day a court decided, the day a party applied) may not lie after
    the centre's date, which `today` (the caller's) tells when such a field is filled in."""
    if not isinstance(data, dict):
        return [FieldError("", Bilingual("表单数据必须是对象（一组字段）", "form data must be an object"))]
    errors: list[FieldError] = []
    declared = set(schema.get("properties", {}))
    for key in data:
        if not isinstance(key, str) or key.startswith("__"):
            errors.append(FieldError(str(key), Bilingual("不允许的字段名（不能以 __ 开头）",
                                                         "field names may not start with '__'")))
        elif key not in declared:
            errors.append(FieldError(key, Bilingual(f"表单「{schema.get('title') or ''}」中没有此项",
                                                    "the form does not declare this field")))
    validator = validator or compile_validator(schema)
    # A text of spaces fills no required text: checked as the empty text it amounts to, so that every
    # minLength (a return reason, a note, a name) also refuses it. Data with no such text is checked as is.
    checked = _blanks_emptied(data) if any_text(data, _blank) else data
    for error in sorted(validator.iter_errors(checked), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path.append(missing)
        if error.validator == "additionalProperties" and not path:
            continue  # already reported per field above
        errors.append(FieldError(_path(path), describe(error, path, schema, ui)))
    for name, spec in schema.get("properties", {}).items():
        # `x-enum-from`: the process narrows the choices (the channels the table allows for this case).
        allowed = _allowed(spec, context or {}) if isinstance(spec, dict) else None
        if allowed is not None and name in data and data[name] not in allowed:
            names = enum_names(spec)
            zh, en = "、".join(names.get(v, str(v)) for v in allowed), ", ".join(names.get(v, str(v)) for v in allowed)
            errors.append(FieldError(name, field_message(label_at(schema, ui, [name]), f"此案只能选择：{zh}",
                                                         f"not allowed for this case; allowed: {en}")))
        if today is not None and isinstance(spec, dict) and spec.get("x-not-after-today") and name in data:
            day = today()
            if _after(data[name], day):
                errors.append(FieldError(name, field_message(label_at(schema, ui, [name]), "不能晚于今天",
                                                             f"must not be later than today ({day.isoformat()})")))
    return errors


def _after(value: Any, today: date) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return date.fromisoformat(value) > today
    except ValueError:
        return False  # not a date at all: the schema's format reports it


def check_schema_file(name: str, content: bytes) -> tuple[dict[str, Any] | None, list[ProblemLocation]]:
    """Parse and check one form file; UI schemas only need to be JSON objects."""
    try:
        value = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        return None, [ProblemLocation(name, None, None, "form file is not UTF-8")]
    except json.JSONDecodeError as exc:
        return None, [ProblemLocation(name, exc.lineno, None, f"JSON does not parse: {exc.msg}")]
    if not isinstance(value, dict):
        return None, [ProblemLocation(name, 1, None, "a form file must contain a JSON object")]
    if name.endswith(".schema.json"):
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            return None, [ProblemLocation(name, None, _path(exc.absolute_path) or None,
                                          f"not a valid JSON Schema: {exc.message}")]
    return value, []
