"""Whatever the engine or the serializer raises becomes an EngineFailure naming where it happened.

Why: the engine runs the deployed diagram's scripts and expressions, and walks a case's task tree
(recursively, in places: before compaction — app/engine/compaction.py — a case returned to dispatch a couple
of hundred times reached Python's recursion limit inside SpiffWorkflow). Any error from there — a
SpiffWorkflow exception, a script's ZeroDivisionError, a RecursionError, a state that no longer loads — is a
failure of the process, not a bug of the request: callers answer `process-failure` naming the element, roll
the step back and record an incident. Concord's own refusals raised on the way (NotFound, TaskNotOpen,
ValidationFailed: ConcordErrors) pass unchanged.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from app.engine.sandbox import SandboxError
from app.errors import PROCESS_DEFINITION, PROCESS_STATE, Bilingual, ConcordError, EngineFailure

MAX_ERROR = 1000  # characters of the error kept in the answer and the incident
P = ParamSpec("P")
R = TypeVar("R")


class Running:
    """The task the engine is working on: set before a step, then told by do_engine_steps before each task
    it runs (its `will_complete_task` callback), so that an error without a task of its own (a
    RecursionError deep in the engine) still names the element it happened at."""

    __slots__ = ("task",)

    def __init__(self, task: Any = None) -> None:
        self.task = task

    def __call__(self, task: Any) -> None:
        self.task = task


def error_text(exc: BaseException) -> str:
    """"Type: message" of an engine error; a script's own error type where the engine wrapped it."""
    kind = type(exc).__name__
    wrapped = getattr(exc, "error_type", None) if isinstance(exc, WorkflowTaskException) else None
    if wrapped and wrapped != "unknown":
        kind = wrapped
    text = str(exc).strip()
    text = text.removesuffix(".").rstrip()  # SpiffWorkflowException's text ends in ". " and its notes
    if text.startswith(f"{kind}:") and not text.startswith(f"{kind}: "):
        text = f"{kind}: {text[len(kind) + 1:]}"  # the engine spells a script's error "Type:message"
    text = text if text.startswith(kind) else f"{kind}: {text}" if text else kind
    return (text + _refusal(exc))[:MAX_ERROR]


def _refusal(exc: BaseException) -> str:
    """The sandbox's reason when `exc` wraps a refusal: the engine's message for a failed expression
    names only the expression ("Error evaluating expression ..."), not why it failed."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not isinstance(cause, SandboxError):
        cause = cause.__cause__ or cause.__context__
    return f" ({cause})" if cause is not None and str(cause) not in str(exc) else ""


def failure(exc: Exception, running: Running | None = None, fallback: str = "the process") -> EngineFailure:
    """The EngineFailure for `exc`: at the task the exception names (a script's, a gateway's), else at the
    task the engine was running, else at `fallback` (the element the caller was working on)."""
    if isinstance(exc, EngineFailure):
        return exc
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
    if spec is None and running is not None:
        spec = getattr(running.task, "task_spec", None)
    element = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)) if spec is not None else None
    if not element:
        return EngineFailure(fallback, error_text(exc))
    return EngineFailure(str(element), error_text(exc), name=getattr(spec, "bpmn_name", None))


def converted(function: Callable[P, R]) -> Callable[P, R]:
    """For a runner function taking the workflow first: its errors become EngineFailures at the process
    (or at the task they name)."""
    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ConcordError:
            raise
        except Exception as exc:  # noqa: BLE001 - see the module's docstring
            spec = getattr(args[0], "spec", None) if args else None
            raise failure(exc, None, getattr(spec, "name", None) or "the process") from exc
    return wrapper


def _stored(element: str, zh: str, en: str, exc: Exception) -> EngineFailure:
    error = error_text(exc)
    return EngineFailure(element, error, detail=Bilingual(f"{zh}：{error}", f"{en}: {error}"))


def state_not_loaded(exc: Exception) -> EngineFailure:
    return _stored(PROCESS_STATE, "流程状态无法读取", "the process state could not be loaded", exc)


def state_not_saved(exc: Exception) -> EngineFailure:
    return _stored(PROCESS_STATE, "流程状态无法保存", "the process state could not be saved", exc)


def definition_not_loaded(exc: Exception) -> EngineFailure:
    return _stored(PROCESS_DEFINITION, "流程定义无法读取", "the process definition could not be loaded", exc)
