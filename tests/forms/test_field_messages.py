"""Every field of every shipped form, given invalid values: each refusal names the field by its label, in
Chinese and in English, and never repeats what was typed nor speaks Python or jsonschema."""
from __future__ import annotations

import json
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.errors import Bilingual
from app.forms.labels import label_at
from app.forms.validation import validate_submission

FORMS = sorted(p.name.removesuffix(".schema.json") for p in (PROJECT_ROOT / "forms").glob("*.schema.json"))
SECRET = "王五13977665544"  # typed into a field: must never come back in a message
PYTHONISH = ("'", "[{", "was expected", "is not of type", "is too", "does not", "is not valid", "None", "True",
             "False", "set_int_max_str_digits", "Failed validating")


def _load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = json.loads((PROJECT_ROOT / "forms" / f"{name}.schema.json").read_text("utf-8"))
    ui_path = PROJECT_ROOT / "forms" / f"{name}.uischema.json"
    return schema, json.loads(ui_path.read_text("utf-8")) if ui_path.exists() else {}


def _bad_values(spec: dict[str, Any]) -> list[Any]:
    """Values the field refuses: the wrong kind, and for texts one too long or an unknown choice."""
    kind = spec.get("type")
    values: list[Any] = [{"x": SECRET}] if kind != "object" else [SECRET]
    if kind == "string":
        values += [977665544, [SECRET]]
        if "enum" in spec:
            values.append(SECRET)
        if "maxLength" in spec:
            values.append(SECRET * (int(spec["maxLength"]) // len(SECRET) + 1))
        if spec.get("format") == "date":
            values.append(SECRET)
    elif kind in ("number", "integer"):
        values += [SECRET, -10**13 if "minimum" in spec else 10**13, True]
    elif kind == "boolean":
        values += [SECRET, 1]
    elif kind == "array":
        values += [[{"name": SECRET, "role": SECRET, "phone": SECRET}], SECRET]
    return values


@pytest.mark.parametrize("name", FORMS)
def test_every_refusal_of_every_form_names_the_label_and_echoes_nothing(name: str) -> None:
    schema, ui = _load(name)
    assert schema.get("properties"), name
    for field, spec in schema["properties"].items():
        label = label_at(schema, ui, [field])
        for value in _bad_values(spec):
            errors = validate_submission(schema, {field: value}, ui=ui)
            mine = [e for e in errors if e.field == field or e.field.startswith((f"{field}.", f"{field}["))]
            if value is not True or spec.get("type") not in ("number", "integer"):
                assert mine or spec.get("type") == "number", (name, field, value)
            for error in errors:
                message = error.message
                assert isinstance(message, Bilingual), (name, field, message)
                for half in (message.zh, message.en):
                    assert SECRET not in half and "977665544" not in half, (name, field, half)
                    for word in PYTHONISH:
                        assert word not in half, (name, field, half)
                if error in mine and error.field == field:
                    assert message.zh.startswith(f"「{label}」") and message.en.startswith(label), error


def test_a_missing_required_field_is_named_by_its_label() -> None:
    schema, ui = _load("register_case")
    messages = {e.field: e.message for e in validate_submission(schema, {}, ui=ui)}
    assert messages["title"].zh == "「事项标题」为必填项" and messages["title"].en == "事项标题: is required"
    assert messages["parties"].zh == "「当事人」为必填项"
