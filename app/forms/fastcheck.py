"""A compiled validity test for the plain JSON Schemas that forms use, in front of jsonschema.

Why: jsonschema walks a schema anew on every call and builds a validator object for every subschema it
descends into; a case step spent more time validating its form (70 µs for the registration form) than
the engine spent running the step. Most submissions are valid, so a form first asks a test compiled
once per deployed schema, and only data that fails it goes through jsonschema, which stays the one
authority on errors and their messages.

The test is exact for the keywords it knows: it accepts precisely what Draft 2020-12 accepts (a test
holds it to jsonschema's answer over thousands of instances of every deployed form). A schema using
any other keyword, or an enum/const of values other than texts and booleans, gets no compiled test
(`compile_test` returns None) and is always checked by jsonschema.
"""
from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import Any

Test = Callable[[Any], bool]

# Keywords that never change validity.
_ANNOTATIONS = frozenset(("title", "description", "default", "examples", "$comment", "readOnly", "writeOnly",
                          "deprecated"))


class Unsupported(Exception):
    """The schema uses something the compiled test does not implement exactly."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPES: dict[str, Test] = {
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
    "integer": _is_integer,
    "number": _is_number,
}


def compile_test(schema: Any, format_checker: Any) -> Test | None:
    """A function telling whether an instance is valid against `schema`, or None when the schema uses
    what the test does not implement (jsonschema then checks every submission)."""
    try:
        return _compile(schema, format_checker, root=True)
    except Unsupported:
        return None


def _compile(schema: Any, checker: Any, root: bool = False) -> Test:
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise Unsupported(f"schema {schema!r}")
    tests: list[Test] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-") or (root and keyword == "$schema"):
            continue
        if keyword in ("then", "else"):
            continue  # compiled with "if"
        build = _KEYWORDS.get(keyword)
        if build is None:
            raise Unsupported(f"keyword {keyword}")
        tests.append(build(argument, schema, checker))
    if not tests:
        return lambda value: True
    if len(tests) == 1:
        return tests[0]
    return lambda value: all(test(value) for test in tests)


def _type(argument: Any, _schema: dict[str, Any], _checker: Any) -> Test:
    names = [argument] if isinstance(argument, str) else argument
    if not isinstance(names, list) or not all(name in _TYPES for name in names):
        raise Unsupported(f"type {argument!r}")
    checks = [_TYPES[name] for name in names]
    if len(checks) == 1:
        return checks[0]
    return lambda value: any(check(value) for check in checks)


def _choices(values: list[Any]) -> Test:
    # jsonschema compares with its own equality (True is not 1, 1 is 1.0): for texts and booleans that
    # is plain identity of type and value, which is all forms need.
    texts = frozenset(value for value in values if isinstance(value, str))
    flags = [value for value in values if isinstance(value, bool)]
    if len(texts) + len(flags) != len(values):
        raise Unsupported("enum/const values other than texts and booleans")
    return lambda value: (value in texts) if isinstance(value, str) else any(value is flag for flag in flags)


def _enum(argument: Any, _schema: dict[str, Any], _checker: Any) -> Test:
    if not isinstance(argument, list):
        raise Unsupported("enum")
    return _choices(argument)


def _const(argument: Any, _schema: dict[str, Any], _checker: Any) -> Test:
    return _choices([argument])


def _size(limit: Any, kind: type[str] | type[list[Any]], at_least: bool) -> Test:
    """minLength/maxLength (kind str, counted in code points as jsonschema does) and minItems/maxItems
    (kind list); values of other kinds pass."""
    if not _is_integer(limit):
        raise Unsupported("size limit")
    if at_least:
        return lambda value: not isinstance(value, kind) or len(value) >= limit
    return lambda value: not isinstance(value, kind) or len(value) <= limit


def _pattern(argument: Any, _schema: dict[str, Any], _checker: Any) -> Test:
    if not isinstance(argument, str):
        raise Unsupported("pattern")
    search = re.compile(argument).search
    return lambda value: not isinstance(value, str) or search(value) is not None


def _format(argument: Any, _schema: dict[str, Any], checker: Any) -> Test:
    if checker is None:
        return lambda value: True  # formats are annotations unless a checker asserts them
    return lambda value: checker.conforms(value, argument)


def _bound(argument: Any, lowest: bool) -> Test:
    if not _is_number(argument):
        raise Unsupported("numeric bound")
    if lowest:
        return lambda value: not _is_number(value) or value >= argument
    return lambda value: not _is_number(value) or value <= argument


def _required(argument: Any, _schema: dict[str, Any], _checker: Any) -> Test:
    if not isinstance(argument, list):
        raise Unsupported("required")
    names = tuple(argument)
    return lambda value: not isinstance(value, dict) or all(name in value for name in names)


def _properties(argument: Any, _schema: dict[str, Any], checker: Any) -> Test:
    if not isinstance(argument, dict):
        raise Unsupported("properties")
    tests = tuple((name, _compile(sub, checker)) for name, sub in argument.items())

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        return all(test(value[name]) for name, test in tests if name in value)
    return check


def _additional(argument: Any, schema: dict[str, Any], _checker: Any) -> Test:
    if argument is True:
        return lambda value: True
    if argument is not False or "patternProperties" in schema:
        raise Unsupported("additionalProperties other than false")
    declared = frozenset(schema.get("properties", {}))
    return lambda value: not isinstance(value, dict) or declared.issuperset(value)


def _items(argument: Any, schema: dict[str, Any], checker: Any) -> Test:
    if "prefixItems" in schema:
        raise Unsupported("prefixItems")
    test = _compile(argument, checker)
    return lambda value: not isinstance(value, list) or all(test(item) for item in value)


def _contains(argument: Any, schema: dict[str, Any], checker: Any) -> Test:
    if "minContains" in schema or "maxContains" in schema:
        raise Unsupported("minContains/maxContains")
    test = _compile(argument, checker)
    return lambda value: not isinstance(value, list) or any(test(item) for item in value)


def _if(argument: Any, schema: dict[str, Any], checker: Any) -> Test:
    condition = _compile(argument, checker)
    then = _compile(schema.get("then", True), checker)
    otherwise = _compile(schema.get("else", True), checker)
    return lambda value: then(value) if condition(value) else otherwise(value)


def _canonical(value: Any) -> Any:
    """A hashable stand-in equal for exactly the values jsonschema's equality calls equal: booleans are
    not numbers, 1 is 1.0, arrays and objects compare item by item."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, numbers.Number):
        return ("number", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    return (type(value).__name__, value)


def _unique(argument: Any, _schema: dict[str, Any], _checker: Any) -> Test:
    if not isinstance(argument, bool):
        raise Unsupported("uniqueItems")
    if not argument:
        return lambda value: True
    return lambda value: not isinstance(value, list) or len({_canonical(item) for item in value}) == len(value)


def _not(argument: Any, _schema: dict[str, Any], checker: Any) -> Test:
    test = _compile(argument, checker)
    return lambda value: not test(value)


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any], Any], Test]] = {
    "type": _type, "enum": _enum, "const": _const, "pattern": _pattern, "format": _format,
    "minLength": lambda argument, _s, _c: _size(argument, str, at_least=True),
    "maxLength": lambda argument, _s, _c: _size(argument, str, at_least=False),
    "minimum": lambda argument, _s, _c: _bound(argument, lowest=True),
    "maximum": lambda argument, _s, _c: _bound(argument, lowest=False),
    "required": _required, "properties": _properties, "additionalProperties": _additional, "items": _items,
    "minItems": lambda argument, _s, _c: _size(argument, list, at_least=True),
    "maxItems": lambda argument, _s, _c: _size(argument, list, at_least=False),
    "contains": _contains, "if": _if, "not": _not, "uniqueItems": _unique,
}
