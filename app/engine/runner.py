"""Drive workflows: start, list ready human tasks, complete, deliver messages, fire timers.

Every function takes and mutates a live workflow; persisting it is the caller's business. When a
function raises, the workflow object may be half-advanced and must be thrown away (never saved).
"""
from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import chain
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from app import clock
from app.engine.loader import Spec
from app.engine.records import HumanTask, WaitingTimer
from app.engine.sandbox import SandboxError
from app.engine.scripts import SCRIPT_ENGINE
from app.errors import EngineFailure, NotFound, TaskNotOpen, ValidationFailed

GROUP_PROPERTY = "candidateGroups"
_ALIGNED = "concord_clock_aligned"


def _engine_steps(workflow: BpmnWorkflow) -> None:
    try:
        workflow.refresh_timers()
        workflow.do_engine_steps()
        _align_duration_timers(workflow)
    except SpiffWorkflowException as exc:
        raise EngineFailure(_describe(exc)) from exc
    except Exception as exc:  # a script or expression raised a plain Python error
        raise EngineFailure(f"{type(exc).__name__}: {exc}") from exc


def _align_duration_timers(workflow: BpmnWorkflow) -> None:
    """The engine computes a duration timer's fire time from the wall clock; Concord's time is app.clock,
    which drills and tests move. Each new duration timer is shifted once so that it counts from the
    application's now (a no-op in production, where both clocks agree)."""
    offset = clock.now() - datetime.now(timezone.utc)
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if not isinstance(definition, DurationTimerEventDefinition) or task._get_internal_data(_ALIGNED):
            continue
        value = task._get_internal_data("event_value")
        if value is None:
            continue
        if abs(offset) > timedelta(seconds=1):
            shifted = TimerEventDefinition.get_datetime(value) + offset
            task._set_internal_data(event_value=shifted.isoformat())
        task._set_internal_data(**{_ALIGNED: True})


def _describe(exc: SpiffWorkflowException) -> str:
    task = getattr(exc, "task", None)
    where = f" at {task.task_spec.bpmn_id}" if task is not None and task.task_spec else ""
    return f"{exc}{_refusal(exc)}{where}"


def _refusal(exc: BaseException) -> str:
    """The sandbox's reason when `exc` wraps a refusal: the engine's message for a failed expression
    names only the expression ("Error evaluating expression ..."), not why it failed."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not isinstance(cause, SandboxError):
        cause = cause.__cause__ or cause.__context__
    return f" ({cause})" if cause is not None and str(cause) not in str(exc) else ""


def _refuse_private_keys(data: dict[str, Any]) -> None:
    bad = [key for key in data if not isinstance(key, str) or key.startswith("__")]
    if bad:
        raise ValidationFailed("keys starting with '__' are not allowed in task data")


def start(spec: Spec, subprocess_specs: dict[str, Spec], data: dict[str, Any]) -> BpmnWorkflow:
    _refuse_private_keys(data)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    _engine_steps(workflow)
    return workflow


_NOT_A_LITERAL = object()


@lru_cache(maxsize=4096)
def _literal(expression: str) -> Any:
    """The value of an expression that is a plain text or number literal (most properties are, e.g.
    "P1D"), else _NOT_A_LITERAL: a literal needs no evaluation against the task's data."""
    try:
        value = ast.literal_eval(expression)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_A_LITERAL
    return value if isinstance(value, (str, int, float)) else _NOT_A_LITERAL


@lru_cache(maxsize=8192)
def _uuid(task_id: str) -> UUID:
    return UUID(task_id)  # (parsing is Python code, and a step looks its tasks up several times)


def _property(task: Any, name: str) -> str | None:
    """Evaluate the task property `name` (a Python expression over the task's data)."""
    expression = task.task_spec.extensions.get("properties", {}).get(name)
    if not expression:
        return None
    value = _literal(expression)
    if value is _NOT_A_LITERAL:
        try:
            value = SCRIPT_ENGINE.evaluate(task, expression)
        except Exception as exc:
            raise EngineFailure(f"{name} of {task.task_spec.bpmn_id} failed: {exc}{_refusal(exc)}") from exc
    return str(value) if value not in (None, "") else None


def _view(task: Any) -> HumanTask:
    spec = task.task_spec
    properties = dict(spec.extensions.get("properties", {}))
    return HumanTask(
        id=str(task.id), bpmn_id=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
        group=_property(task, GROUP_PROPERTY) if GROUP_PROPERTY in properties else spec.lane,
        form_key=properties.get("formJsonSchemaFilename"),
        form_ui_key=properties.get("formUiSchemaFilename"), properties=properties, data=task.data,
        time_limit=_property(task, "timeLimit"),
        working_days=(_property(task, "timeLimitCalendar") or "working") != "calendar",
        case_status=_property(task, "caseStatus"), procedure=_property(task, "procedure"),
    )


def ready_human_tasks(workflow: BpmnWorkflow) -> list[HumanTask]:
    return [_view(task) for task in workflow.get_tasks(state=TaskState.READY, manual=True)]


def ready_task_ids(workflow: BpmnWorkflow) -> set[str]:
    # Every step asks this; a flat pass over the task dictionaries finds the same tasks as get_tasks()
    # without its tree walk (the engine removes dropped tasks from these dictionaries).
    tasks = chain(workflow.tasks.values(), *(sub.tasks.values() for sub in workflow.subprocesses.values()))
    return {str(task.id) for task in tasks if task.state == TaskState.READY and task.task_spec.manual}


def describe(workflow: BpmnWorkflow, task_ids: list[str]) -> list[HumanTask]:
    """Full views (group, form, time limit evaluated) of the given tasks, e.g. the ones that just opened."""
    return [_view(workflow.get_task_from_id(_uuid(task_id))) for task_id in task_ids]


def task_data(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    task = workflow.get_task_from_id(_uuid(task_id))
    return dict(task.data) if task is not None else {}


def task_property(workflow: BpmnWorkflow, task_id: str, name: str) -> str | None:
    """The text of a task's property `name` as the diagram spells it (not evaluated)."""
    task = workflow.get_task_from_id(_uuid(task_id))
    return task.task_spec.extensions.get("properties", {}).get(name) if task is not None else None


def complete_task(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
    """Merge `data` into a READY human task, run it and advance the workflow to its next wait."""
    _refuse_private_keys(data)
    task = workflow.get_task_from_id(_uuid(task_id))
    if task is None or not task.task_spec.manual:
        raise NotFound(f"task {task_id} is not part of this process")
    # Task.run() happily runs a FUTURE task: the READY check is ours to make.
    if task.state != TaskState.READY:
        raise TaskNotOpen(f"task {task_id} is {TaskState.get_name(task.state)}, not open")
    task.data.update(data)
    try:
        task.run()
    except SpiffWorkflowException as exc:
        raise EngineFailure(_describe(exc)) from exc
    _engine_steps(workflow)


def deliver_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    """Deliver an external message; NotFound when nothing in the process waits for it."""
    event = BpmnEvent(MessageEventDefinition(name), payload=payload)
    try:
        workflow.send_event(event)
    except WorkflowException as exc:
        raise NotFound(f"the process is not waiting for message {name!r}") from exc
    _engine_steps(workflow)


def message_context(workflow: BpmnWorkflow, name: str) -> dict[str, Any]:
    """The data of the task waiting for message `name` (a message is checked against the process as it
    stands there, e.g. the channel the case was sent to); empty when nothing waits for it."""
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            return dict(task.data)
    return {}


def waiting_timers(workflow: BpmnWorkflow) -> list[WaitingTimer]:
    timers = []
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if isinstance(definition, TimerEventDefinition):
            timers.append(WaitingTimer(str(task.id), task.task_spec.bpmn_id, str(definition.details(task).value)))
    return timers


def fire_timer(workflow: BpmnWorkflow, task_id: str) -> bool:
    """Fire the waiting timer event `task_id` now, whatever the engine's own clock says: Concord's timer
    table and its injectable clock decide what is due (drills and tests move time). False when the
    event is no longer waiting."""
    task = workflow.get_task_from_id(_uuid(task_id))
    if task is None or task.state != TaskState.WAITING:
        return False
    if not isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
        return False
    task._set_internal_data(event_fired=True)
    try:
        task.task_spec._update(task)
    except SpiffWorkflowException as exc:
        raise EngineFailure(_describe(exc)) from exc
    _engine_steps(workflow)
    return True


def is_completed(workflow: BpmnWorkflow) -> bool:
    # The engine sets `completed` when the End task runs (or the process is cancelled);
    # is_completed() would rescan the whole task tree on every call to find the same answer.
    return bool(workflow.completed)


def latest_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process variables as of the most recently completed task."""
    if workflow.completed:
        return dict(workflow.data)
    task = workflow.last_task
    return dict(task.data) if task is not None else {}


def element_states(workflow: BpmnWorkflow) -> tuple[set[str], set[str]]:
    """(completed element ids, active element ids) for marking the diagram."""
    completed, active = set(), set()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            active.add(bpmn_id)
    return completed, active
