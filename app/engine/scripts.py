"""The script engine BPMN expressions run in.

Designers are trusted (deploy rights are restricted to them and every expression is compiled at
deploy time); form data is not, which is why task data never contains `__` keys (the runner refuses
them) and why the builtins offered here are a short, side-effect-free list. This is not a sandbox
against a hostile designer; it keeps honest diagrams from reaching files, imports or the network.
"""
from __future__ import annotations

import ast
import builtins
import datetime as _datetime
from functools import lru_cache
from types import CodeType
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

_SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int", "isinstance",
        "len", "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str",
        "sum", "tuple", "zip", "True", "False", "None", "ValueError", "KeyError",
    )
}

SCRIPT_GLOBALS = {
    "__builtins__": _SAFE_BUILTINS,
    "datetime": _datetime.datetime,
    "timedelta": _datetime.timedelta,
    "timezone": _datetime.timezone,
}


# Why caches: the engine hands expressions over as text and evaluates them afresh each time (a DMN
# rule is parsed to check its syntax, rewritten and compiled on every row of every decision). The set
# of expressions is fixed by the deployed diagrams, so each is parsed and compiled once per process.
@lru_cache(maxsize=8192)
def _compiled(expression: str) -> CodeType:
    return compile(expression, "<expression>", "eval")


@lru_cache(maxsize=8192)
def _syntax_error(expression: str) -> tuple[Any, ...] | None:
    try:
        ast.parse(expression)
    except SyntaxError as exc:
        return exc.args
    return None


class _CompiledTaskDataEnvironment(TaskDataEnvironment):
    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        scope = dict(self.globals)  # a fresh scope per evaluation: expressions never pollute each other
        if external_context:
            scope.update(external_context)
        scope.update(context)
        return eval(_compiled(expression), scope)  # noqa: S307 - designer-authored, compiled at deploy


class ConcordScriptEngine(PythonScriptEngine):
    def validate(self, expression: str) -> None:
        error = _syntax_error(expression)
        if error is not None:
            raise SyntaxError(*error)  # a new exception each time: the engine catches and retries it


def make_script_engine() -> PythonScriptEngine:
    return ConcordScriptEngine(environment=_CompiledTaskDataEnvironment(dict(SCRIPT_GLOBALS)))


SCRIPT_ENGINE = make_script_engine()
