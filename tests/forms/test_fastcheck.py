"""The compiled validity test accepts exactly what jsonschema accepts, on every deployed form."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.forms.fastcheck import compile_test
from app.forms.formats import checker
from app.forms.validation import validate_submission

FORMS = sorted((Path(__file__).resolve().parents[2] / "forms").glob("*.schema.json"))
# Values that tell the keywords apart: types JSON can carry, booleans against numbers, integral floats,
# blank and over-long texts, formats right and wrong.
ODD_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.0, 1.5, 10**6, "", " ", "x", "ab", "x" * 300, "resolved",
                         "applicant", "13800138000", "1380013800", "2026-02-30", "2026-11-29",
                         "11010519491231002X", "110105194912310021", [], [1], {}, {"role": "applicant"}]


def _sample(schema: Any, rng: random.Random, depth: int = 0) -> Any:
    """A value built to satisfy `schema` most of the time (the mutations then break it)."""
    if not isinstance(schema, dict):
        return rng.choice(ODD_VALUES)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    kind = rng.choice(kind) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        names = list(schema.get("properties", {}))
        chosen = sorted(set(schema.get("required", [])) | {name for name in names if rng.random() < 0.5})
        return {name: _sample(schema.get("properties", {}).get(name), rng, depth + 1) for name in chosen}
    if kind == "array":
        return [_sample(schema.get("items", {}), rng, depth + 1) for _ in range(rng.randint(0, 2) + 1)]
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", -5), schema.get("maximum", 10**7)
        return rng.randint(int(low), int(high))
    if kind == "string":
        if schema.get("format") == "cn-phone":
            return rng.choice(["13800138000", "0571-88886666", "12345", "2800138000"])
        if schema.get("format") == "cn-id-number":
            return rng.choice(["11010519491231002X", "110105194912310021"])
        if schema.get("format") == "date":
            return rng.choice(["2026-11-29", "2026-13-01"])
        if "pattern" in schema:
            return rng.choice(["AB-12", "张三"])
        return rng.choice(["张三", "邻里纠纷调解", "ab", "x" * rng.randint(0, 12), " "])
    return rng.choice(ODD_VALUES)


def _mutated(value: Any, rng: random.Random) -> Any:
    """`value` with one thing changed somewhere: a key dropped or added, a value replaced."""
    if isinstance(value, dict) and value and rng.random() < 0.6:
        key = rng.choice(list(value))
        changed = dict(value)
        roll = rng.random()
        if roll < 0.25:
            del changed[key]
        elif roll < 0.4:
            changed["undeclared_" + key] = 1
        else:
            changed[key] = _mutated(value[key], rng)
        return changed
    if isinstance(value, list) and value and rng.random() < 0.6:
        index = rng.randrange(len(value))
        return value[:index] + [_mutated(value[index], rng)] + value[index + 1:]
    return rng.choice(ODD_VALUES)


@pytest.mark.parametrize("path", FORMS, ids=lambda path: path.name)
def test_the_compiled_test_agrees_with_jsonschema_on_valid_and_broken_submissions(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    test = compile_test(schema, checker)
    assert test is not None, f"{path.name} uses a keyword the compiled test does not implement"
    reference = Draft202012Validator(schema, format_checker=checker)
    rng = random.Random(path.name)
    verdicts = {True: 0, False: 0}
    for _ in range(3000):
        instance = _sample(schema, rng)
        for _ in range(rng.randint(0, 2)):
            instance = _mutated(instance, rng)
        expected = reference.is_valid(instance)
        assert test(instance) is expected, f"{path.name}: {instance!r} should be {'valid' if expected else 'invalid'}"
        verdicts[expected] += 1
    assert verdicts[True] > 60 and verdicts[False] > 60, verdicts  # both answers were really exercised


@pytest.mark.parametrize("schema, instance, valid", [
    ({"type": "integer"}, 1.0, True), ({"type": "integer"}, True, False), ({"type": "number"}, False, False),
    ({"enum": ["a", True]}, 1, False), ({"enum": ["a", True]}, True, True), ({"const": False}, 0, False),
    ({"type": ["string", "null"]}, None, True), ({"contains": {"const": "a"}}, [], False),
    ({"not": {"type": "string"}}, "x", False), ({"minLength": 2}, 5, True), ({"maxItems": 1}, "long text", True),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}, {"a": 1}, False),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}, {"c": 1}, True),
    ({"properties": {"a": False}}, {"a": 1}, False), ({"additionalProperties": False}, {"a": 1}, False),
    ({"pattern": "^[0-9]+$"}, "12a", False), ({"minimum": 0}, -0.5, False), ({"maximum": 3}, "9", True),
    ({"uniqueItems": True}, ["a", "b", "a"], False), ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [1, 1.0], False), ({"uniqueItems": True}, [{"a": [1]}, {"a": [1.0]}], False),
    ({"uniqueItems": True}, [[0], [False]], True), ({"uniqueItems": True}, "aa", True),
    ({"uniqueItems": False}, ["a", "a"], True),
])
def test_the_compiled_test_keeps_jsonschema_semantics_at_the_edges(schema: Any, instance: Any, valid: bool) -> None:
    test = compile_test(schema, checker)
    assert test is not None
    assert test(instance) is valid
    assert Draft202012Validator(schema, format_checker=checker).is_valid(instance) is valid


@pytest.mark.parametrize("schema", [
    {"$ref": "#/$defs/a", "$defs": {"a": {}}}, {"enum": [1, 2]}, {"const": {"a": 1}}, {"oneOf": [{}]},
    {"additionalProperties": {"type": "string"}}, {"properties": {"a": {"$schema": "x"}}},
    {"contains": {}, "minContains": 2}, {"items": {}, "prefixItems": [{}]},
])
def test_schemas_beyond_the_compiled_keywords_are_left_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_test(schema, checker) is None


def test_invalid_data_still_gets_jsonschemas_errors_with_field_paths() -> None:
    schema = json.loads((FORMS[0].parent / "register_case.schema.json").read_text(encoding="utf-8"))
    errors = validate_submission(schema, {"title": "x", "description": "描述", "source": "walk_in",
                                          "parties": [{"name": "张三", "role": "applicant", "phone": "123"}]})
    assert {error.field for error in errors} == {"title", "parties[0].phone"}
