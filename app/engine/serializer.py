"""Workflow state <-> JSON, without the process spec.

Why: about half of a serialized workflow is its spec and rebuilding the spec is about half of the
load time. Specs are stored once per deployed version (see loader.spec_to_json) and attached on load,
so an instance's state holds only its task tree and data.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from itertools import chain
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from app.engine import compaction, failures
from app.engine.scripts import SCRIPT_ENGINE

STATE_FORMAT = "concord-slim-1"  # our envelope; the engine's own format version is stored beside it


class _SlimWorkflowConverter(BpmnWorkflowConverter):
    """BpmnWorkflowConverter minus the spec: to_dict drops it, from_dict takes it as an argument.
    dump_state writes the same format faster; this to_dict is its definition (the tests compare the two)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_FINISHED = TaskState.FINISHED_MASK
_STABLE = TaskState.FINISHED_MASK | TaskState.PREDICTED_MASK | TaskState.FUTURE
_MEMO = "_concord_task_json"


def _stable_key(task: Task, parent: Task | None) -> tuple[Any, ...] | None:
    """What a task's serialized form depends on, for the tasks whose form rarely changes; None otherwise.

    A task is stored as its own fields plus its data as a delta against its parent's data. Finished
    tasks never change, and neither do predicted ones under a finished parent; a predicted task with no
    data of its own under an open parent changes only with that parent's keys (its delta lists them as
    deletions). The key covers what could still move, so any change is converted afresh. Ready and
    waiting tasks are always converted."""
    state = task._state
    if not state & _STABLE:
        return None
    own = (state, task.last_state_change, len(task._children), task.triggered, id(task.data), len(task.data),
           len(task.internal_data))
    if parent is None or parent._state & _FINISHED:
        return own
    if task.data or state & _FINISHED:
        return None
    return own + tuple(parent.data)


class _Record:
    """One task's memo: the parts of its text that never change (its id, its parent), the parts that
    change seldom (children, timestamp) with what they were made from, and its last text with the key
    it was made under. Found by the task object's identity: hashing the task's UUID is Python code,
    and a save would hash a hundred of them."""

    __slots__ = ("task", "parent", "head", "children", "children_text", "stamp", "stamp_text", "key", "text")

    def __init__(self, task: Task, name: Callable[[UUID], str]) -> None:
        self.task = task
        # A task's parent never changes, and stays in the same workflow while the task does.
        self.parent: Task | None = task.workflow.tasks.get(task._parent) if task._parent is not None else None
        own = name(task.id)
        parent_id = f'"{name(self.parent.id)}"' if self.parent is not None else "null"
        self.head = f'"{own}":{{"id":"{own}","parent":{parent_id},'
        self.children: list[UUID] | None = None
        self.children_text = ""
        self.stamp: Any = None
        self.stamp_text = ""
        self.key: tuple[Any, ...] | None = None
        self.text = ""


class _Memo:
    """What one workflow's saves reuse: a record per task, and the text of task ids (str(UUID) is
    Python code, and every task names its children)."""

    __slots__ = ("records", "names")

    def __init__(self) -> None:
        self.records: dict[int, _Record] = {}
        self.names: dict[int, str] = {}

    def name(self, task_id: UUID) -> str:
        number = task_id.int
        name = self.names.get(number)
        if name is None:
            name = self.names[number] = str(task_id)
        return name


def _tasks_json(workflow: Any, memo: _Memo) -> str:
    """The task mapping of one (sub)workflow as JSON text, reusing the text of every unchanged task.

    Every save converts the whole task tree, which grows with every step, yet most of it does not
    change: encoding it afresh each time was most of the cost of a save."""
    items, records = [], memo.records
    for task in workflow.tasks.values():
        record = records.get(id(task))
        if record is None or record.task is not task:
            record = records[id(task)] = _Record(task, memo.name)
        elif task._state & _FINISHED and record.key is not None and record.key[0] == task._state:
            # A finished task under a finished parent (most of the tree): _stable_key spelled out, as
            # this loop runs for every task at every save.
            parent = record.parent
            if (parent is None or parent._state & _FINISHED) and record.key == (
                    task._state, task.last_state_change, len(task._children), task.triggered, id(task.data),
                    len(task.data), len(task.internal_data)):
                items.append(record.text)
                continue
        key = _stable_key(task, record.parent)
        if key is None or key != record.key:
            record.text, record.key = _task_json(task, record, memo), key
        items.append(record.text)
    return "{" + ",".join(items) + "}"


@lru_cache(maxsize=4096)
def _spec_name(name: str) -> str:
    return _dumps(name)  # a diagram has a fixed set of element names


@lru_cache(maxsize=1024)
def _empty_delta(parent_keys: tuple[str, ...]) -> str:
    return f'{{"updates":{{}},"deletions":{_dumps(list(parent_keys))}}}'


def _task_json(task: Task, record: _Record, memo: _Memo) -> str:
    """`"id":{...}` exactly as json.dumps(TaskConverter.to_dict(task) + typename) spells it, without
    building the dictionary first (a test holds the two to the same bytes at every step of the route)."""
    parent = record.parent
    if parent is None:
        data, delta = _dumps(task.data), "{}"
    elif not task.data:
        # A task that has not started yet carries no data: its delta deletes every key of its parent,
        # the same text for all its siblings and for the next saves.
        data, delta = "{}", _empty_delta(tuple(parent.data))
    else:
        updates = DeepMerge.get_updated_keys(parent.data, task.data)
        deletions = DeepMerge.get_deleted_keys(parent.data, task.data)
        data, delta = "{}", f'{{"updates":{_dumps(updates) if updates else "{}"},"deletions":{_dumps(deletions)}}}'
    if task._children != record.children:  # (a list compare: identical ids match without hashing)
        name = memo.name
        record.children = list(task._children)
        record.children_text = ",".join(f'"{name(child)}"' for child in task._children)
    changed = task.last_state_change
    if changed is not record.stamp:
        record.stamp = changed
        record.stamp_text = repr(changed) if type(changed) is float else _dumps(changed)
    return (f'{record.head}"children":[{record.children_text}],"last_state_change":{record.stamp_text},'
            f'"state":{task._state},"task_spec":{_spec_name(task.task_spec.name)},'
            f'"triggered":{"true" if task.triggered else "false"},"internal_data":{_internal_json(task.internal_data)},'
            f'"data":{data},'
            f'"delta":{delta},"typename":"{_TASK_TYPENAME}"}}')


_PLAIN = frozenset((str, int, float, bool, type(None)))


def _internal_json(internal: dict[str, Any]) -> str:
    if not internal:
        return "{}"
    if all(type(value) in _PLAIN for value in internal.values()):
        return _dumps(internal)  # what the registry's conversion would return, without walking it
    return _dumps(REGISTRY.convert(internal))


def _workflow_json(workflow: Any, memo: _Memo, subprocesses: str | None, tail: dict[str, Any]) -> str:
    """The fields of WorkflowConverter.to_dict, in its order, with the tasks encoded by _tasks_json
    (a test holds the result byte for byte to the engine's own conversion)."""
    head = {"data": REGISTRY.convert(REGISTRY.clean(workflow.data)), "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success, "completed": workflow.completed}
    middle = f',"tasks":{_tasks_json(workflow, memo)},"root":"{workflow.task_tree.id}"'
    if subprocesses is not None:
        middle += f',"subprocesses":{subprocesses}'
    return _dumps(head)[:-1] + middle + "," + _dumps(tail)[1:]


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SlimWorkflowConverter
REGISTRY = BpmnWorkflowSerializer.configure(_config)
_TASK_TYPENAME = REGISTRY.typenames[Task]
SERIALIZER = BpmnWorkflowSerializer(REGISTRY)
ENGINE_FORMAT_VERSION: str = SERIALIZER.VERSION


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# JSONEncoder.encode builds its C encoder anew on every call; a save encodes dozens of small values, so
# the encoder is built once, with the same settings (NaN allowed) and without the check for circular
# references (task data is plain JSON data: a circular value fails with RecursionError instead).
_C_ENCODE = (c_make_encoder(None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True)
             if c_make_encoder is not None else None)


def _dumps(value: Any) -> str:
    if type(value) is str:
        return str(encode_basestring(value))
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def dump_state(workflow: BpmnWorkflow) -> str:
    """The slim state (see _SlimWorkflowConverter) as JSON text; an EngineFailure at the process state when
    it cannot be written (e.g. task data the engine cannot convert, or nested beyond the recursion limit)."""
    try:
        return _dump_state(workflow)
    except Exception as exc:  # any error of the conversion: see app.engine.failures
        raise failures.state_not_saved(exc) from exc


def _dump_state(workflow: BpmnWorkflow) -> str:
    memo = workflow.__dict__.get(_MEMO)
    if memo is None:
        memo = workflow.__dict__[_MEMO] = _Memo()
    subprocesses = ",".join(
        f'"{sub_id}":' + _workflow_json(sub, memo, None, {
            "parent_task_id": str(sub.parent_task_id), "spec": sub.spec.name,
            "typename": REGISTRY.typenames[type(sub)]})
        for sub_id, sub in workflow.subprocesses.items())
    text = _workflow_json(workflow, memo, "{" + subprocesses + "}", {
        "bpmn_events": REGISTRY.convert(workflow.bpmn_events), "typename": REGISTRY.typenames[type(workflow)]})
    _forget_removed_tasks(workflow, memo)
    return text


def _forget_removed_tasks(workflow: BpmnWorkflow, memo: _Memo) -> None:
    """Predicted branches that were not taken leave the tree; drop their records once the memo has grown."""
    alive = len(workflow.tasks) + sum(len(sub.tasks) for sub in workflow.subprocesses.values())
    if len(memo.records) + len(memo.names) > 4 * alive + 64:
        tasks = list(chain(workflow.tasks.values(), *(sub.tasks.values() for sub in workflow.subprocesses.values())))
        keep = {id(task) for task in tasks}
        memo.records = {number: record for number, record in memo.records.items() if number in keep}
        names = {task.id.int for task in tasks}
        memo.names = {number: name for number, name in memo.names.items() if number in names}


def compact(workflow: BpmnWorkflow) -> None:
    """Take completed history out of the live task tree (app.engine.compaction), and make the next save
    encode afresh the tasks whose parent or children it changed."""
    touched = compaction.compact(workflow)
    memo = workflow.__dict__.get(_MEMO)
    if memo is not None:
        for task in touched:
            memo.records.pop(id(task), None)


def load_state(state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """The workflow stored as `state`, compacted (a state stored before compaction existed, with a history
    too deep for the engine, can take steps again); an EngineFailure at the process state when it does not
    load (a damaged row, a state the engine cannot restore)."""
    try:
        workflow = SERIALIZER.from_dict(json.loads(state), spec=spec, subprocess_specs=subprocess_specs)
        if not isinstance(workflow, BpmnWorkflow):  # (the registry hands back what it does not recognise)
            raise TypeError(f"the stored state holds a {type(workflow).__name__}, not a workflow")
        workflow.script_engine = SCRIPT_ENGINE
        compact(workflow)
    except Exception as exc:  # any error of the restoration: see app.engine.failures
        raise failures.state_not_loaded(exc) from exc
    return workflow
