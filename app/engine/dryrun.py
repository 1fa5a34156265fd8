"""The designer's dry run: every path of an executable process walked in memory, with the production
runner and script engine (app.engine.runner, app.engine.scripts: the same sandbox) and no database.

A path branches where a person or the world decides: each choice a form offers (the caller generates
the submissions, app.forms.samples), each timer or boundary timer firing (escalation paths), each message
arriving. The base submission always continues; another choice is tried once per element and value
(the first time the walk meets it), so the paths grow with the sum of a route's choices, not their
product. Bounds keep a big route fast: paths, engine steps in all, steps per path, and visits of one
element per path (a loop is followed LOOP_VISITS times).

An expression that raises on a reachable path is a problem naming its element; the path stops there."""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from app.engine import runner, serializer
from app.engine.loader import Spec
from app.engine.records import HumanTask
from app.errors import ConcordError, EngineFailure

MAX_PATHS = 400
MAX_STEPS = 2500  # engine actions in all, over every path
MAX_DEPTH = 120  # actions on one path
LOOP_VISITS = 3  # times one element may be acted on along one path
MAX_SECONDS = 30.0  # and the wall clock, whatever the machine's load

Samples = Callable[[str | None, dict[str, Any]], list[tuple[str, dict[str, Any]]]]
Payload = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class Finding:
    element: str
    en: str
    zh: str


@dataclass
class Walk:
    key: str
    paths: int = 0
    steps: int = 0
    truncated: bool = False  # a bound ended the walk before every branch was taken
    elements: list[str] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)
    problems: list[Finding] = field(default_factory=list)
    untimed: list[str] = field(default_factory=list)  # user tasks reached without a time limit


@dataclass
class _Branch:
    state: str | None  # the serialized workflow the action applies to (None: the process starts)
    action: tuple[str, str, str, dict[str, Any]]  # (kind, task id or message name, element, data)
    label: str
    trail: tuple[str, ...]
    visits: dict[str, int]
    live: Any = None  # the workflow itself instead of `state` (the first branch from a state: no copy needed)


def walk(key: str, spec: Spec, subprocess_specs: dict[str, Spec], start_samples: list[tuple[str, dict[str, Any]]],
         samples: Samples, payload: Payload) -> Walk:
    result = Walk(key, elements=_elements_of(spec))
    seen: set[tuple[str, str]] = set()
    failures: set[tuple[str, str]] = set()
    stack = [_Branch(None, ("start", "", key, data), label, (), {})
             for label, data in reversed(start_samples) if not label or _novel(seen, key, label)]
    began = time.monotonic()
    while stack:
        if result.paths >= MAX_PATHS or result.steps >= MAX_STEPS or time.monotonic() - began > MAX_SECONDS:
            result.truncated = True
            break
        branch = stack.pop()
        trail = branch.trail + ((branch.label,) if branch.label else ())
        workflow = _act(result, spec, subprocess_specs, branch, trail, failures)
        if workflow is None:
            result.paths += 1
            continue
        following = _next(result, workflow, branch, trail, seen, samples, payload, failures)
        if following is None:
            _mark_reached(result, workflow)
            result.paths += 1
        else:
            stack.extend(reversed(following))
    return result


def _mark_reached(result: Walk, workflow: Any) -> None:
    """Every element done or waiting in the workflow at the end of a path (done ones stay in its tree)."""
    try:
        completed, active = runner.element_states(workflow)
    except EngineFailure:
        return
    result.reached |= completed | active


def _novel(seen: set[tuple[str, str]], element: str, label: str) -> bool:
    if (element, label) in seen:
        return False
    seen.add((element, label))
    return True


def _act(result: Walk, spec: Spec, subprocess_specs: dict[str, Spec], branch: _Branch, trail: tuple[str, ...],
         failures: set[tuple[str, str]]) -> Any:
    """The workflow after the branch's action; None when it failed (a problem, the path ends)."""
    kind, target, element, data = branch.action
    data = copy.deepcopy(data)  # the branches of one state share their samples; a script may change its data
    result.steps += 1
    try:
        if branch.live is not None:
            workflow = branch.live
        elif branch.state is None:
            workflow = runner.start(spec, subprocess_specs, data)
        else:
            workflow = serializer.load_state(branch.state, spec, subprocess_specs)
        if branch.live is not None or branch.state is not None:
            if kind == "task":
                runner.complete_task(workflow, target, data)
            elif kind == "timer":
                runner.fire_timer(workflow, target)
            else:
                runner.deliver_message(workflow, target, data)
    except EngineFailure as failure:
        result.reached.add(failure.element)
        _failed(result, failure, trail, failures)
        return None
    except ConcordError:  # refused before the engine ran (data the runner does not accept): no path here
        return None
    return workflow


def _failed(result: Walk, failure: EngineFailure, trail: tuple[str, ...], failures: set[tuple[str, str]]) -> None:
    if (failure.element, failure.error) in failures:
        return
    failures.add((failure.element, failure.error))
    path = " → ".join(trail[-6:]) or "the first path"
    result.problems.append(Finding(failure.element, f"dry run: {failure.element} raises on a reachable path "
                                                    f"({path}): {failure.error}",
                                   f"试运行：{failure.element} 在可达路径（{path}）上出错：{failure.error}"))


def _next(result: Walk, workflow: Any, branch: _Branch, trail: tuple[str, ...], seen: set[tuple[str, str]],
          samples: Samples, payload: Payload, failures: set[tuple[str, str]]) -> list[_Branch] | None:
    """The branches from here; None when the path ends (completed, stuck, or at a bound)."""
    if runner.is_completed(workflow):
        return None
    try:
        tasks: list[HumanTask] = runner.ready_human_tasks(workflow)
        timers = runner.waiting_timers(workflow)
        messages = _waiting_messages(workflow)
    except EngineFailure as failure:  # a task property (group, time limit) that does not evaluate
        _failed(result, failure, trail, failures)
        return None
    result.reached.update(task.bpmn_id for task in tasks)  # (a timer may cancel them before the path ends)
    result.reached.update(timer.bpmn_id for timer in timers)
    result.reached.update(element for element, _name in messages)
    for task in tasks:
        if task.time_limit is None and task.bpmn_id not in result.untimed:
            result.untimed.append(task.bpmn_id)
    if len(trail) + 1 > MAX_DEPTH:
        result.truncated = True
        return None
    actions: list[tuple[tuple[str, str, str, dict[str, Any]], str]] = []
    if tasks:
        task = tasks[0]
        for label, data in samples(task.form_key, task.data):
            if not label or _novel(seen, task.bpmn_id, label):
                actions.append((("task", task.id, task.bpmn_id, data), f"{task.bpmn_id}[{label}]" if label else ""))
        for other in tasks[1:]:  # tasks open side by side: each is also done first, once
            if _novel(seen, other.bpmn_id, "first"):
                data = samples(other.form_key, other.data)[0][1]
                actions.append((("task", other.id, other.bpmn_id, data), f"{other.bpmn_id}↑"))
    for timer in timers:
        if not actions or _novel(seen, timer.bpmn_id, "fire"):
            actions.append((("timer", timer.task_id, timer.bpmn_id, {}), f"{timer.bpmn_id}⏰"))
    for element, name in messages:
        if not actions or _novel(seen, element, "message"):
            context = runner.message_context(workflow, name)
            actions.append((("message", name, element, payload(name, context)), f"{element}✉"))
    actions = [(a, label) for a, label in actions if branch.visits.get(a[2], 0) < LOOP_VISITS]
    if not actions:
        return None
    state = ""
    if len(actions) > 1:  # a copy for each other branch (the first goes on in this workflow)
        try:
            state = serializer.dump_state(workflow)
        except EngineFailure as failure:  # data no state can hold: production would fail to save it too
            _failed(result, failure, trail, failures)
            return None
    branches = [_Branch(state, action, label, trail, {**branch.visits, action[2]: branch.visits.get(action[2], 0) + 1})
                for action, label in actions]
    branches[0].live = workflow  # taken next (the stack is last in, first out): it goes on in this workflow
    return branches


def _waiting_messages(workflow: Any) -> list[tuple[str, str]]:
    """(BPMN id, message name) of every event or receive task waiting for a message."""
    found = []
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if isinstance(definition, MessageEventDefinition):
            found.append((task.task_spec.bpmn_id, definition.name))
    return found


def _elements_of(spec: Spec) -> list[str]:
    """The BPMN ids of the flow elements a process spec holds (its tasks, events and gateways)."""
    return sorted({bpmn_id for task_spec in spec.task_specs.values()
                   if (bpmn_id := getattr(task_spec, "bpmn_id", None))})
