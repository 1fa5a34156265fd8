"""Drive workflows: start, list ready human tasks, complete, deliver messages, fire timers.

Every function takes and mutates a live workflow; persisting it is the caller's business. When a
function raises, the workflow object may be half-advanced and must be thrown away (never saved).
Whatever the engine raises on the way (a script's error, a SpiffWorkflow exception, a RecursionError on a
very long history) comes out as an EngineFailure naming the element (app.engine.failures); Concord's own
refusals (NotFound, TaskNotOpen, ValidationFailed) come out as they are.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import chain
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from app import clock
from app.engine import compaction, failures, serializer
from app.engine.failures import Running, converted
from app.engine.loader import Spec
from app.engine.records import HumanTask, WaitingTimer
from app.engine.scripts import SCRIPT_ENGINE
from app.errors import ConcordError, EngineFailure, NotFound, TaskNotOpen, ValidationFailed

GROUP_PROPERTY = "candidateGroups"
_ALIGNED = "concord_clock_aligned"


def _engine_steps(workflow: BpmnWorkflow, running: Running) -> None:
    """Run the engine's own tasks (scripts, gateways, events) up to the next wait; `running` follows them."""
    workflow.refresh_timers()
    workflow.do_engine_steps(will_complete_task=running)
    _align_duration_timers(workflow)
    serializer.compact(workflow)  # a step costs the same at any age of the case


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


def _refuse_private_keys(data: dict[str, Any]) -> None:
    bad = [key for key in data if not isinstance(key, str) or key.startswith("__")]
    if bad:
        raise ValidationFailed("keys starting with '__' are not allowed in task data")


def start(spec: Spec, subprocess_specs: dict[str, Spec], data: dict[str, Any]) -> BpmnWorkflow:
    _refuse_private_keys(data)
    running = Running()
    try:
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        _engine_steps(workflow, running)
    except ConcordError:
        raise
    except Exception as exc:  # anything the engine raised: see app.engine.failures
        raise failures.failure(exc, running, str(getattr(spec, "name", None) or "the process")) from exc
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
            spec = task.task_spec
            raise EngineFailure(spec.bpmn_id, f"{name}: {failures.error_text(exc)}", name=spec.bpmn_name) from exc
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


@converted
def ready_human_tasks(workflow: BpmnWorkflow) -> list[HumanTask]:
    return [_view(task) for task in workflow.get_tasks(state=TaskState.READY, manual=True)]


def ready_task_ids(workflow: BpmnWorkflow) -> set[str]:
    # Every step asks this; a flat pass over the task dictionaries finds the same tasks as get_tasks()
    # without its tree walk (the engine removes dropped tasks from these dictionaries).
    tasks = chain(workflow.tasks.values(), *(sub.tasks.values() for sub in workflow.subprocesses.values()))
    return {str(task.id) for task in tasks if task.state == TaskState.READY and task.task_spec.manual}


@converted
def describe(workflow: BpmnWorkflow, task_ids: list[str]) -> list[HumanTask]:
    """Full views (group, form, time limit evaluated) of the given tasks, e.g. the ones that just opened."""
    return [_view(workflow.get_task_from_id(_uuid(task_id))) for task_id in task_ids]


def _find(workflow: BpmnWorkflow, task_id: str) -> Any:
    """The task `task_id` of the workflow or of one of its subprocesses; None when it has none such."""
    try:
        return workflow.get_task_from_id(_uuid(task_id))
    except (TaskNotFoundException, ValueError):
        return None


@converted
def task_data(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    task = _find(workflow, task_id)
    return dict(task.data) if task is not None else {}


def declared_property(specs: tuple[Spec, dict[str, Spec]], bpmn_id: str, name: str) -> str | None:
    """The property `name` of the diagram's task `bpmn_id` when the diagram declares it as a literal (a
    caseStatus of "handling"); None when absent or an expression, which has no value outside a running task."""
    spec, subprocess_specs = specs
    for process in (spec, *subprocess_specs.values()):
        task_spec = process.task_specs.get(bpmn_id)
        if task_spec is None:
            continue
        expression = getattr(task_spec, "extensions", {}).get("properties", {}).get(name)
        value = _literal(expression) if expression else _NOT_A_LITERAL
        return str(value) if value is not _NOT_A_LITERAL and value != "" else None
    return None


@converted
def task_property(workflow: BpmnWorkflow, task_id: str, name: str) -> str | None:
    """The text of a task's property `name` as the diagram spells it (not evaluated)."""
    task = _find(workflow, task_id)
    return task.task_spec.extensions.get("properties", {}).get(name) if task is not None else None


def complete_task(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
    """Merge `data` into a READY human task, run it and advance the workflow to its next wait."""
    _refuse_private_keys(data)
    running = Running()
    with engine_failures(workflow, running):
        task = running.task = _find(workflow, task_id)
        if task is None or not task.task_spec.manual:
            raise NotFound(f"task {task_id} is not part of this process")
        # Task.run() happily runs a FUTURE task: the READY check is ours to make.
        if task.state != TaskState.READY:
            raise TaskNotOpen(f"task {task_id} is {TaskState.get_name(task.state)}, not open")
        task.data.update(data)
        task.run()
        _engine_steps(workflow, running)


@contextmanager
def engine_failures(workflow: Any, running: Running) -> Iterator[None]:
    """Anything the engine raises inside becomes the step's failure naming its element (app.engine.failures);
    Concord's own errors pass as they are."""
    try:
        yield
    except ConcordError:
        raise
    except Exception as exc:
        raise failures.failure(exc, running, _process_name(workflow)) from exc


def _process_name(workflow: BpmnWorkflow) -> str:
    """The process's BPMN id: where a failure happened that names no task."""
    return str(getattr(getattr(workflow, "spec", None), "name", None) or "the process")


def deliver_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any], near: str | None = None) -> None:
    """Deliver an external message; NotFound when nothing in the process waits for it. `near`: the id of a
    task whose (sub)process should catch it first — the overdue notice of one department's task in a
    multi-instance call must open supervision in that department's instance, not in every instance."""
    running = Running()
    with engine_failures(workflow, running):
        running.task = _waiting_for(workflow, name)
        event = BpmnEvent(MessageEventDefinition(name), payload=payload, target=_catching_beside(workflow, name, near))
        try:
            workflow.send_event(event)
        except WorkflowException as exc:
            raise NotFound(f"the process is not waiting for message {name!r}") from exc
        _engine_steps(workflow, running)


def _catching_beside(workflow: BpmnWorkflow, name: str, near: str | None) -> Any:
    """The (sub)process of task `near` when something in it waits for message `name`, else None (then the
    message goes to whatever waits for it; the engine would report a message caught further up as not caught)."""
    beside = _find(workflow, near) if near else None
    if beside is None:
        return None
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if task.workflow is beside.workflow and isinstance(definition, MessageEventDefinition) \
                and definition.name == name:
            return beside.workflow
    return None


def _waiting_for(workflow: BpmnWorkflow, name: str) -> Any:
    """The task waiting for message `name` (the element a failure of its delivery names), or None."""
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            return task
    return None


@converted
def message_context(workflow: BpmnWorkflow, name: str) -> dict[str, Any]:
    """The data of the task waiting for message `name` (a message is checked against the process as it
    stands there, e.g. the channel the case was sent to); empty when nothing waits for it."""
    task = _waiting_for(workflow, name)
    return dict(task.data) if task is not None else {}


@converted
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
    running = Running()
    with engine_failures(workflow, running):
        task = running.task = _find(workflow, task_id)
        if task is None or task.state != TaskState.WAITING:
            return False
        if not isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            return False
        task._set_internal_data(event_fired=True)
        task.task_spec._update(task)
        _engine_steps(workflow, running)
    return True


def is_completed(workflow: BpmnWorkflow) -> bool:
    # The engine sets `completed` when the End task runs (or the process is cancelled);
    # is_completed() would rescan the whole task tree on every call to find the same answer.
    return bool(workflow.completed)


@converted
def latest_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process variables as of the most recently completed task."""
    if workflow.completed:
        return dict(workflow.data)
    task = workflow.last_task
    return dict(task.data) if task is not None else {}


@converted
def taken_transitions(workflow: BpmnWorkflow) -> set[tuple[str, str]]:
    """(from, to) element pairs the case actually went along, those compaction remembered included. A
    flow between two completed elements was not necessarily taken (a gateway's other branch can end at
    an element reached another way); these pairs say which was."""
    return compaction.taken_transitions(workflow) | compaction.live_transitions(workflow)


def element_states(workflow: BpmnWorkflow) -> tuple[set[str], set[str]]:
    """(completed element ids, active element ids) for marking the diagram."""
    completed, active = compaction.completed_elements(workflow), set()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            active.add(bpmn_id)
    return completed, active

