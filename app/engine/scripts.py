"""The script engine BPMN expressions run in.

Every expression and script the engine or Concord evaluates (gateway conditions, script tasks,
pre/post scripts, DMN cells, task properties, timers, message correlations) goes through
`_CheckedTaskDataEnvironment`: each text is checked and rewritten once (sandbox.prepare, cached) and
each evaluation gets its own work budget (sandbox.Guard). Task data never contains `__` keys (the
runner refuses them), and the builtins offered here are a short, side-effect-free list.
"""
from __future__ import annotations

import ast
import datetime as _datetime
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from app.engine.sandbox import GUARD_NAME, SAFE_BUILTINS, Guard, check_data, prepare

SCRIPT_GLOBALS = {
    "__builtins__": SAFE_BUILTINS,
    "datetime": _datetime.datetime,
    "timedelta": _datetime.timedelta,
    "timezone": _datetime.timezone,
}


@lru_cache(maxsize=8192)
def _syntax_error(expression: str) -> tuple[Any, ...] | None:
    try:
        ast.parse(expression)
    except SyntaxError as exc:
        return exc.args
    return None


class _CheckedTaskDataEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment with both of its entry points checked: evaluate (conditions, DMN, properties,
    timers; also called directly by the engine for correlations and data objects) and execute (script
    tasks, pre- and post-scripts)."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        prepared = prepare(expression, "eval")
        code = prepared.checked_code()  # raises the refusal, also for specs deployed before the check
        scope = dict(self.globals)  # a fresh scope per evaluation: expressions never pollute each other
        if external_context:
            scope.update(external_context)
        scope.update(context)
        scope["__builtins__"] = SAFE_BUILTINS  # whatever the data holds
        if prepared.guarded:
            scope[GUARD_NAME] = Guard()
        result = eval(code, scope)  # noqa: S307 - checked and rewritten by sandbox.prepare
        check_data((result,), "the size of the expression's value")
        return result

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        prepared = prepare(script, "exec")
        code = prepared.checked_code()
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        # As the engine's own execute: the script runs in the task data itself, so that what it assigns
        # is the task's data; globals and anything callable are removed afterwards.
        context.update(self.globals)
        context.update(external_context)
        context["__builtins__"] = SAFE_BUILTINS
        if prepared.guarded:
            context[GUARD_NAME] = Guard()
        try:
            exec(code, context)  # noqa: S102 - checked and rewritten by sandbox.prepare
        finally:
            context.pop(GUARD_NAME, None)
            self._remove_globals_and_functions_from_context(context, external_context)
        check_data(context.values(), "the size of the task data")
        return True


class ConcordScriptEngine(PythonScriptEngine):
    def validate(self, expression: str) -> None:
        # (the DMN engine asks whether a cell parses alone; safety is checked when it is evaluated)
        error = _syntax_error(expression)
        if error is not None:
            raise SyntaxError(*error)  # a new exception each time: the engine catches and retries it


def make_script_engine() -> PythonScriptEngine:
    return ConcordScriptEngine(environment=_CheckedTaskDataEnvironment(dict(SCRIPT_GLOBALS)))


SCRIPT_ENGINE = make_script_engine()
