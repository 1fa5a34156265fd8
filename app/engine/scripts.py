"""The script engine BPMN expressions run in.

Designers are trusted (deploy rights are restricted to them and every expression is compiled at
deploy time); form data is not, which is why task data never contains `__` keys (the runner refuses
them) and why the builtins offered here are a short, side-effect-free list. This is not a sandbox
against a hostile designer; it keeps honest diagrams from reaching files, imports or the network.
"""
from __future__ import annotations

import builtins
import datetime as _datetime

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


def make_script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=TaskDataEnvironment(dict(SCRIPT_GLOBALS)))


SCRIPT_ENGINE = make_script_engine()
