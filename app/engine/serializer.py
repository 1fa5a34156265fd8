"""Workflow state <-> JSON, without the process spec.

Why: about half of a serialized workflow is its spec and rebuilding the spec is about half of the
load time. Specs are stored once per deployed version (see loader.spec_to_json) and attached on load,
so an instance's state holds only its task tree and data.
"""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.engine.scripts import SCRIPT_ENGINE

STATE_FORMAT = "concord-slim-1"  # our envelope; the engine's own format version is stored beside it


class _SlimWorkflowConverter(BpmnWorkflowConverter):
    """BpmnWorkflowConverter minus the spec: to_dict drops it, from_dict takes it as an argument."""

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


_STABLE = TaskState.FINISHED_MASK | TaskState.PREDICTED_MASK | TaskState.FUTURE


class _FinishedTaskMemoConverter(TaskConverter):
    """Every save converts the whole task tree, which grows with every step, yet most of it does not
    change: finished tasks, and predicted ones whose parent is finished (their data delta is taken
    against that fixed parent). Their dictionaries are kept on the live workflow and reused; the key
    includes what could still move (state, timestamp, children, trigger, data), so any change is
    converted afresh. Ready and waiting tasks are always converted."""

    MEMO = "_concord_finished_task_dicts"

    def to_dict(self, task: Task) -> dict[str, Any]:
        parent = task.parent
        if not task.state & _STABLE or (parent is not None and not parent.state & TaskState.FINISHED_MASK):
            return super().to_dict(task)
        memo = task.workflow.__dict__.setdefault(self.MEMO, {})
        key = (task.state, task.last_state_change, len(task._children), task.triggered, id(task.data),
               len(task.data), len(task.internal_data))
        hit = memo.get(task.id)
        if hit is not None and hit[0] == key:
            return hit[1]
        dct = super().to_dict(task)
        memo[task.id] = (key, dct)
        return dct


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SlimWorkflowConverter
_config[Task] = _FinishedTaskMemoConverter
REGISTRY = BpmnWorkflowSerializer.configure(_config)
SERIALIZER = BpmnWorkflowSerializer(REGISTRY)
ENGINE_FORMAT_VERSION: str = SERIALIZER.VERSION


def dump_state(workflow: BpmnWorkflow) -> str:
    return json.dumps(SERIALIZER.to_dict(workflow), ensure_ascii=False, separators=(",", ":"))


def load_state(state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    workflow = SERIALIZER.from_dict(json.loads(state), spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = SCRIPT_ENGINE
    return workflow
