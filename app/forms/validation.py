"""Validate form submissions against a deployed JSON Schema, with field paths users can act on."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from app.errors import FieldError, ProblemLocation
from app.forms.formats import checker


@dataclass(frozen=True)
class FormBundle:
    key: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any]
    validator: Any = field(default=None, compare=False, repr=False)

    def validate(self, data: Any) -> list[FieldError]:
        return validate_submission(self.schema, data, self.validator)


def compile_validator(schema: dict[str, Any]) -> Any:
    """Building a validator is far costlier than running it: build once per deployed form."""
    return Draft202012Validator(schema, format_checker=checker)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: Any) -> str:
    if error.validator == "required":
        return "必填 / required"
    if error.validator == "format":
        return f"格式不正确 / invalid {error.validator_value}"
    if error.validator == "enum":
        return f"必须是以下之一 / must be one of: {', '.join(map(str, error.validator_value))}"
    return str(error.message)


def validate_submission(schema: dict[str, Any], data: Any, validator: Any = None) -> list[FieldError]:
    """Every problem of `data` against `schema`. Top-level fields the form does not declare, and keys
    starting with `__`, are refused here whatever the schema says: they would otherwise become
    process variables (and overwrite a time limit or a routing decision)."""
    if not isinstance(data, dict):
        return [FieldError("", "表单数据必须是对象 / form data must be an object")]
    errors: list[FieldError] = []
    declared = set(schema.get("properties", {}))
    for key in data:
        if not isinstance(key, str) or key.startswith("__"):
            errors.append(FieldError(str(key), "不允许的字段名 / field names may not start with '__'"))
        elif key not in declared:
            errors.append(FieldError(key, "表单未声明此字段 / the form does not declare this field"))
    validator = validator or compile_validator(schema)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path.append(missing)
        if error.validator == "additionalProperties" and not path:
            continue  # already reported per field above
        errors.append(FieldError(_path(path), _message(error)))
    return errors


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
