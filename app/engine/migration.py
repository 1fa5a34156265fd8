"""Move a running workflow onto another version of its process, with SpiffWorkflow's own diff and migration
(SpiffWorkflow.bpmn.util.diff: SpecDiff aligns the versions' elements by id, then by structure;
migrate_workflow swaps every task's spec and resets the waiting ones).

What Concord adds around it:
- an operator's mapping (old element id -> new id) overrides the alignment, for elements the new version
  renamed;
- a plan is computed once per pair of versions and mapping, and applied to each instance;
- an instance is refused (a problem naming the element) when a task it holds or has done has no
  counterpart, when a completed task's element changed its kind, or when its open human tasks would not be
  the same tasks afterwards (same ids) — the caller then throws the workflow away, so nothing changes;
- migrate_workflow resets waiting events, which recomputes timer fire times from the wall clock: each
  waiting task keeps its internal data (its fire time) as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from app.engine import failures
from app.engine.runner import ready_task_ids
from app.engine.serializer import REGISTRY

_KEEP_INTERNAL = TaskState.WAITING | TaskState.READY
_HELD = TaskState.FINISHED_MASK | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class Problem:
    element_id: str | None
    message: str


@dataclass
class Plan:
    """The alignment of one version's elements with another's (top process and each subprocess)."""

    top: SpecDiff
    subprocesses: dict[str, SpecDiff | None]
    new_spec: Any
    new_subprocess_specs: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)  # of the plan itself (a mapping that names nothing)


def _bpmn_id(spec: Any) -> str:
    """The diagram's element a spec stands for (the engine's receive.BoundaryEventSplit is `receive`'s)."""
    return str(getattr(spec, "bpmn_id", None) or spec.name.partition(".")[0])


def _apply_mapping(diff: SpecDiff, old: Any, new: Any, mapping: dict[str, str], used: set[str]) -> None:
    for old_spec in list(diff.alignment):
        # The engine's own specs around an element (receive.BoundaryEventSplit, ...) follow its mapping.
        element, dot, suffix = old_spec.name.partition(".")
        target = mapping.get(old_spec.name) or (f"{mapping[element]}.{suffix}" if dot and element in mapping
                                                 else None)
        if target is not None and target in new.task_specs:
            diff.alignment[old_spec] = new.task_specs[target]
            diff.comparisons[old_spec] = diff._compare_task_specs(old_spec, new.task_specs[target])
            used.add(element if dot else old_spec.name)


def plan(old_spec: Any, old_subprocess_specs: dict[str, Any], new_spec: Any, new_subprocess_specs: dict[str, Any],
         mapping: dict[str, str]) -> Plan:
    used: set[str] = set()
    top = SpecDiff(REGISTRY, old_spec, new_spec)
    _apply_mapping(top, old_spec, new_spec, mapping, used)
    subs: dict[str, SpecDiff | None] = {}
    for name, spec in old_subprocess_specs.items():
        new = new_subprocess_specs.get(name)
        subs[name] = None if new is None else SpecDiff(REGISTRY, spec, new)
        if new is not None:
            _apply_mapping(subs[name], spec, new, mapping, used)
    result = Plan(top, subs, new_spec, new_subprocess_specs)
    known_new = set(new_spec.task_specs) | {n for s in new_subprocess_specs.values() for n in s.task_specs}
    for old, new in sorted(mapping.items()):
        if new not in known_new:
            result.problems.append(Problem(new, f"the mapping names {new!r}, which the target version does not have"))
        elif old not in used:
            result.problems.append(Problem(old, f"the mapping names {old!r}, which the source version does not have"))
    return result


def _diff_problems(workflow: Any, diff: WorkflowDiff) -> list[Problem]:
    problems = []
    for task in diff.removed:
        if task.has_state(_HELD):
            problems.append(Problem(_bpmn_id(task.task_spec), f"the target version has no element "
                                    f"{_bpmn_id(task.task_spec)!r} (map it to one)"))
    return problems


def migrate(the_plan: Plan, workflow: Any) -> list[Problem]:
    """Put `workflow` on the plan's version. On problems the workflow may be half-migrated: throw it away."""
    if the_plan.problems:
        return list(the_plan.problems)
    top = WorkflowDiff(workflow, the_plan.top)
    problems = _diff_problems(workflow, top)
    diffs: dict[Any, WorkflowDiff] = {}
    for sp_id, sub in workflow.subprocesses.items():
        spec_diff = the_plan.subprocesses.get(sub.spec.name)
        if spec_diff is None:
            problems.append(Problem(sub.spec.name, f"the target version has no subprocess {sub.spec.name!r}"))
            continue
        diffs[sp_id] = WorkflowDiff(sub, spec_diff)
        problems += _diff_problems(sub, diffs[sp_id])
    for task in [*top.changed, *(t for d in diffs.values() for t in d.changed)]:
        if task.has_state(TaskState.COMPLETED) and "typename" in _changes(the_plan, task):
            problems.append(Problem(_bpmn_id(task.task_spec), f"{_bpmn_id(task.task_spec)!r} was done and is a "
                                    "different kind of element in the target version"))
    if problems:
        return list(dict.fromkeys(problems))  # one per element
    ready_before = ready_task_ids(workflow)
    kept = {task.id: dict(task.internal_data) for task in workflow.get_tasks(state=_KEEP_INTERNAL)}
    try:
        migrate_workflow(top, workflow, the_plan.new_spec)
        for sp_id, diff in diffs.items():
            sub = workflow.subprocesses[sp_id]
            migrate_workflow(diff, sub, the_plan.new_subprocess_specs[sub.spec.name])
    except Exception as exc:  # the engine could not re-predict a branch, ...: that instance is a problem
        return [Problem(None, f"the engine could not migrate it: {failures.error_text(exc)}")]
    workflow.subprocess_specs = the_plan.new_subprocess_specs
    for task in workflow.get_tasks(state=_KEEP_INTERNAL):
        if task.id in kept:
            task.internal_data = kept[task.id]  # its fire time, as it was (not recomputed from the wall clock)
    for sub in (workflow, *workflow.subprocesses.values()):
        stale = [t for t in sub.tasks.values() if sub.spec.task_specs.get(t.task_spec.name) is not t.task_spec]
        if stale:
            element = _bpmn_id(stale[0].task_spec)
            return [Problem(element, f"the target version has no element {element!r} (map it to one)")]
    after = ready_task_ids(workflow)
    if after != ready_before:
        gone = sorted(ready_before - after)
        return [Problem(None, f"open tasks would not stay the same ({len(gone)} would close, "
                              f"{len(after - ready_before)} would open)")]
    return []


def _changes(the_plan: Plan, task: Any) -> list[str]:
    diffs = [the_plan.top, *(d for d in the_plan.subprocesses.values() if d is not None)]
    for diff in diffs:
        if task.task_spec in diff.comparisons:
            return list(diff.comparisons[task.task_spec])
    return []
