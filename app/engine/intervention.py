"""An operator's interventions in a running workflow: move a token (流程干预), shift waiting timers.

SpiffWorkflow has no "move token" of its own: `reset_from_task_id` reopens a task that already ran under
its *old* id (Concord's inbox keys tasks by id, and the completed row of that id is history), and cannot
skip forward. So a move is done by hand, from the engine's own parts: the branch holding the token is
cancelled (Task.cancel, which also takes its boundary events out of the event manager), and a fresh task
of the target element is added under the same parent and updated, as the engine does for any new task.
It then runs to its wait like any step. Only moves inside one (sub)process, to a human task, are done.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine.failures import Running
from app.engine.runner import _engine_steps, engine_failures  # the runner's own step loop (clock alignment)
from app.errors import Bilingual, FieldError, ValidationFailed

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def waiting_timer_keys(workflow: Any) -> set[tuple[str, str]]:
    """(task id, fire time) of every waiting timer event, as the projection keeps them."""
    keys = set()
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if isinstance(definition, TimerEventDefinition):
            keys.add((str(task.id), str(definition.details(task).value)))
    return keys


def shift_timers(workflow: Any, fire_at: dict[str, str]) -> None:
    """Set the fire time (ISO text) of the waiting timer events named by task id."""
    for task in workflow.event_manager.tasks.values():
        value = fire_at.get(str(task.id))
        if value is not None and isinstance(task.task_spec.event_definition, TimerEventDefinition):
            task._set_internal_data(event_value=value)


def _specs_with(workflow: Any, bpmn_id: str) -> list[Any]:
    """The (sub)process specs of the workflow that have an element `bpmn_id`."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    return [spec for spec in specs if any(getattr(t, "bpmn_id", None) == bpmn_id for t in spec.task_specs.values())]


def _refuse(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(Bilingual(zh, en), [FieldError(field, Bilingual(zh, en))])


def move_token(workflow: Any, source: str, target: str) -> None:
    """Move the token waiting at element `source` to element `target` (a human task) of the same process;
    ValidationFailed naming them when either is unknown or the move would leave the process inconsistent."""
    if not _specs_with(workflow, source):
        raise _refuse("from", f"流程中没有环节 {source}", f"the process has no element {source!r}")
    if not _specs_with(workflow, target):
        raise _refuse("to", f"流程中没有环节 {target}", f"the process has no element {target!r}")
    tokens = [t for t in workflow.get_tasks(state=_ACTIVE) if getattr(t.task_spec, "bpmn_id", None) == source]
    if not tokens:
        raise _refuse("from", f"流程当前不在环节 {source}", f"no token waits at {source!r}")
    if len(tokens) > 1:
        raise _refuse("from", f"环节 {source} 有多个令牌，无法移动",
                      f"several tokens wait at {source!r} (a multi-instance or parallel region)")
    token = tokens[0]
    spec = next((s for s in token.workflow.spec.task_specs.values() if getattr(s, "bpmn_id", None) == target), None)
    if spec is None:
        raise _refuse("to", f"环节 {target} 与 {source} 不在同一（子）流程中",
                      f"{target!r} is in a different (sub)process than {source!r}")
    if not spec.manual:
        raise _refuse("to", f"环节 {target} 不是人工任务", f"{target!r} is not a human task")
    if spec is token.task_spec:
        raise _refuse("to", "目标环节与当前环节相同", "the token waits at that element already")
    running = Running()
    with engine_failures(workflow, running):
        # A task with boundary events is entered (and left) through its BoundaryEventSplit.
        branch = token.parent if isinstance(token.parent.task_spec, BoundaryEventSplit) else token
        anchor = branch.parent
        entry = next((s for s in spec.inputs if isinstance(s, BoundaryEventSplit)), spec)
        branch.cancel()
        added = anchor._add_child(entry, TaskState.FUTURE)
        running.task = added
        # As Task.reset_branch does: predict the new task's branch (its children), then let it become ready.
        added.task_spec._predict(added, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
        added.task_spec._update(added)
        _engine_steps(workflow, running)


def run_engine_steps(workflow: Any) -> None:
    """Run the engine's own tasks up to the next wait (an incident's retry: the steps that failed run again)."""
    running = Running()
    with engine_failures(workflow, running):
        _engine_steps(workflow, running)
