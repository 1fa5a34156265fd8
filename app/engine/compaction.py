"""Compaction: completed history out of the live task tree, so that a step costs the same at any age.

Why: SpiffWorkflow keeps every task a case ever ran in one tree, a loop growing it by one chain per pass
(dispatch -> sign_for -> return -> dispatch ... hangs each pass under the last). Every engine step walks
that tree (get_tasks, update_waiting_tasks), some specs walk it recursively (Task.is_descendant_of,
find_ancestor): a case returned to dispatch 100 times cost 10x a new one, and at ~196 loops reached
Python's recursion limit. The case's history is kept by Concord's audit log and task rows, not by the tree.

What the engine still reads of finished tasks (SpiffWorkflow 3.2, checked in its source):
- a task's parent: its data is copied from there when it becomes ready (Task._inherit_data), and a join
  looks at its instances' parents (ParallelGateway / InclusiveGateway: `task.parent.task_spec`, state);
- structured joins (BoundaryEventJoin, StartEventJoin) find their split with `find_ancestor(split_task)`
  and read the split's children (the main task and its boundary events);
- unstructured joins (parallel, inclusive, the process's End) read every *finished* instance of their own
  spec that is not their ancestor: for the threshold (its parent completed) and to merge its parent's data
  (UnstructuredJoin._run_hook). Once a later instance of the same join has completed, those instances were
  consumed by it; the engine would read them again at the next pass of a loop (and count a branch of the
  previous pass as arrived: a parallel join in a loop could fire early), so consumed ones are dropped;
- `workflow.last_task` (run_next, a subprocess's result, Concord's latest_data);
- a running loop or multi-instance task reads its finished children (the last merged one's data);
- a call activity's task owns its subprocess (workflow.subprocesses, keyed by the task's id);
- an ad hoc process tells its running paths by the specs of the root's children (path_complete).

So a task is *needed* when it is unfinished, the child of an unfinished task, the last task, an unconsumed
finished join instance, or the split of an unfinished structured join (with the split's children); the parent
of a needed task is kept too. Everything that is neither needed nor an ancestor of a needed task is a dead
branch and goes. On the remaining paths from the root, a finished task that is not needed and has a single
child is spliced out (its child hangs from its parent instead): ancestry among the tasks left is unchanged, so
every is_descendant_of / find_ancestor answer about them is the same, and the tree's depth no longer grows.

Finished instances of one join that were not consumed and arrived from the same kind of input (e.g. one
per 督办 branch ending while the case goes on) count once for the threshold; the older ones are folded
into the newest (their parents' data merged in the engine's order with DeepMerge) and dropped.

The completed elements that leave the tree are remembered on its root (internal data), for the case
diagram's marking (runner.element_states).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

COMPLETED_ELEMENTS = "concord_completed_elements"  # root task's internal data: bpmn ids compacted away
TAKEN = "concord_taken_transitions"  # root task's internal data: (from, to) element pairs gone along
_REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED

_FINISHED = TaskState.FINISHED_MASK


def compact(workflow: Any) -> set[Task]:
    """Compact the workflow and each of its subprocesses in place; the tasks whose parent or children
    changed (a serializer memo must forget their text)."""
    touched: set[Task] = set()
    remembered: set[str] = set()
    pairs = live_transitions(workflow)  # before the history that shows them leaves the tree
    known_pairs = taken_transitions(workflow)
    if not pairs <= known_pairs:
        root = workflow.task_tree
        root.internal_data = {**root.internal_data, TAKEN: sorted(map(list, known_pairs | pairs))}
        touched.add(root)
    for sub in list(workflow.subprocesses.values()):
        touched |= _compact_tree(sub, remembered)
    touched |= _compact_tree(workflow, remembered)
    remembered |= _drop_orphan_subprocesses(workflow)
    if remembered:
        root = workflow.task_tree
        known = set(root.internal_data.get(COMPLETED_ELEMENTS, ()))
        if not remembered <= known:
            root.internal_data = {**root.internal_data, COMPLETED_ELEMENTS: sorted(known | remembered)}
            touched.add(root)
    return touched


def live_transitions(workflow: Any) -> set[tuple[str, str]]:
    """(from, to) element pairs the tree shows the case went along: each reached task with a diagram
    element and its nearest ancestor with one."""
    pairs: set[tuple[str, str]] = set()
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id or not task.state & _REACHED:
            continue
        parent = task.parent
        while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
            parent = parent.parent
        if parent is not None:
            pairs.add((parent.task_spec.bpmn_id, bpmn_id))
    return pairs


def taken_transitions(workflow: Any) -> set[tuple[str, str]]:
    """The pairs remembered from history compaction took out of the tree (see live_transitions)."""
    return {(pair[0], pair[1]) for pair in workflow.task_tree.internal_data.get(TAKEN, ())}


def completed_elements(workflow: Any) -> set[str]:
    """The bpmn ids of completed tasks that compaction took out of the tree."""
    return set(workflow.task_tree.internal_data.get(COMPLETED_ELEMENTS, ()))


def _compact_tree(workflow: Any, remembered: set[str]) -> set[Task]:
    tasks: dict[UUID, Task] = workflow.tasks
    root = workflow.task_tree
    touched: set[Task] = set()
    needed = _needed(workflow, touched)
    for task_id in list(needed):
        parent = tasks[task_id]._parent
        if parent is not None:
            needed.add(parent)
    skeleton = _with_ancestors(tasks, needed)
    skeleton.add(root.id)
    removed = [task for task_id, task in tasks.items() if task_id not in skeleton]
    touched |= _remove(workflow, removed, remembered)
    touched |= _splice(workflow, root, needed, remembered)
    return touched


def _needed(workflow: Any, touched: set[Task]) -> set[UUID]:
    tasks: dict[UUID, Task] = workflow.tasks
    needed: set[UUID] = set()
    joins: dict[Any, list[Task]] = {}
    for task in tasks.values():
        spec = task.task_spec
        if not task._state & _FINISHED:
            needed.add(task.id)
            # A running loop or multi-instance task reads its finished children (the last one merged).
            needed.update(task._children)
            split = getattr(spec, "split_task", None) if isinstance(spec, Join) else None
            if split is not None:
                ancestor = _nearest_ancestor(task, split)
                if ancestor is not None:
                    needed.add(ancestor.id)
                    needed.update(ancestor._children)
        if isinstance(spec, UnstructuredJoin):
            joins.setdefault(spec, []).append(task)
    last = workflow.last_task
    if last is not None and last.id in tasks:
        needed.add(last.id)
    for instances in joins.values():
        needed.update(_unconsumed(instances, touched))
    return needed


def _nearest_ancestor(task: Task, spec_name: str) -> Task | None:
    """Task.find_ancestor without its recursion."""
    tasks = task.workflow.tasks
    current = tasks.get(task._parent) if task._parent is not None else None
    while current is not None:
        if current.task_spec.name == spec_name:
            return current
        current = tasks.get(current._parent) if current._parent is not None else None
    return None


def _ancestor_ids(task: Task) -> set[UUID]:
    tasks, found, parent = task.workflow.tasks, set(), task._parent
    while parent is not None and parent in tasks:
        found.add(parent)
        parent = tasks[parent]._parent
    return found


def _unconsumed(instances: list[Task], touched: set[Task]) -> set[UUID]:
    """The finished instances of one unstructured join that a later pass of it has not consumed; where
    several of them came from the same kind of input, the older ones are folded into the newest."""
    completed = [task for task in instances if task._state == TaskState.COMPLETED]
    ancestry = {task.id: _ancestor_ids(task) for task in instances if task._state & _FINISHED}
    left = []
    for task in instances:
        if not task._state & _FINISHED:
            continue
        consumed = any(other is not task and other.id not in ancestry[task.id]
                       and other.last_state_change >= task.last_state_change for other in completed)
        if not consumed:
            left.append(task)
    return {task.id for task in _fold_same_inputs(left, touched)}


def _fold_same_inputs(instances: list[Task], touched: set[Task]) -> list[Task]:
    groups: dict[tuple[Any, int], list[Task]] = {}
    for task in sorted(instances, key=lambda t: t.last_state_change):
        parent = task.parent
        groups.setdefault((parent.task_spec if parent else None, parent._state if parent else 0), []).append(task)
    kept = []
    for (spec, _state), group in groups.items():
        newest = group[-1]
        parent = newest.parent
        foldable = (spec is not None and len(group) > 1 and parent is not None and parent._state & _FINISHED
                    and all(child._state & _FINISHED for child in parent.children if child is not None)
                    and all(t.parent is not None for t in group))
        if not foldable:
            kept.extend(group)
            continue
        merged: dict[str, Any] = {}
        for task in group:  # the engine merges them oldest first (UnstructuredJoin._run_hook)
            DeepMerge.merge(merged, task.parent.data)
        parent.data = merged
        touched.add(parent)
        touched.update(parent.children)  # their data is stored as a delta against it
        kept.append(newest)
    return kept


def _with_ancestors(tasks: dict[UUID, Task], ids: Iterable[UUID]) -> set[UUID]:
    found: set[UUID] = set()
    for task_id in ids:
        while task_id is not None and task_id not in found and task_id in tasks:
            found.add(task_id)
            task_id = tasks[task_id]._parent
    return found


def _remember(task: Task, remembered: set[str]) -> None:
    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
    if bpmn_id and task._state == TaskState.COMPLETED:
        remembered.add(bpmn_id)


def _remove(workflow: Any, removed: list[Task], remembered: set[str]) -> set[Task]:
    """Take dead branches out (without the engine's recursive _remove_task); the parents left behind."""
    tasks: dict[UUID, Task] = workflow.tasks
    gone = {task.id for task in removed}
    touched = set()
    for task in removed:
        _remember(task, remembered)
        del tasks[task.id]
        workflow.top_workflow.event_manager.remove_task(task)
    for task in removed:
        parent = tasks.get(task._parent) if task._parent is not None else None
        if parent is not None and task.id in parent._children:
            parent._children = [child for child in parent._children if child not in gone]
            touched.add(parent)
    return touched


def _splice(workflow: Any, root: Task, needed: set[UUID], remembered: set[str]) -> set[Task]:
    """Splice out finished single-child tasks that nothing needs, walking down from the root."""
    tasks: dict[UUID, Task] = workflow.tasks
    touched: set[Task] = set()
    stack = [root]
    while stack:
        task = stack.pop()
        for index, child_id in enumerate(task._children):
            child = tasks[child_id]
            # The root's own children stay: an ad hoc process tells its running paths by their spec
            # (BpmnProcessSpec.path_complete).
            while (task is not root and child._state & _FINISHED and child.id not in needed
                   and len(child._children) == 1):
                grandchild = tasks[child._children[0]]
                _remember(child, remembered)
                del tasks[child.id]
                grandchild._parent = task.id
                touched.add(grandchild)
                child = grandchild
            if task._children[index] != child.id:
                task._children[index] = child.id
                touched.add(task)
            stack.append(child)
    return touched


def _drop_orphan_subprocesses(workflow: Any) -> set[str]:
    """Subprocesses whose calling task left the tree (it completed long ago) go with it."""
    remembered: set[str] = set()
    while True:
        owners = set(workflow.tasks)
        for sub in workflow.subprocesses.values():
            owners.update(sub.tasks)
        orphans = [sub_id for sub_id in workflow.subprocesses if sub_id not in owners]
        if not orphans:
            return remembered
        for sub_id in orphans:
            sub = workflow.subprocesses.pop(sub_id)
            for task in sub.tasks.values():
                _remember(task, remembered)
                workflow.event_manager.remove_task(task)
