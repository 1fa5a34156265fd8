"""Process instances: load a live workflow under a row lock, save it with a version check.

Why a cache: deserializing the task tree is most of the cost of a step. A workflow that this process
saved is kept in memory with the version it was saved at; the next command on that instance locks the
row, reads only its version, and reuses the object when the versions match (any other node's write
bumps the version, so a stale object is never used). The object is *taken* out of the cache while a
command mutates it and put back only after the transaction commits, so a rolled-back or failed step
can never leak a half-advanced workflow into a later request.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app import clock
from app.engine import runner, serializer
from app.errors import ConcurrentUpdate, NotFound
from app.extensions import settings
from app.models import ProcessInstance
from app.services import definitions
from app.services.definitions import DefinitionInfo

_PENDING_KEY = "concord.workflows_to_cache"


class WorkflowCache:
    def __init__(self) -> None:
        self._items: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, version: int) -> Any | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        return item[1] if item is not None and item[0] == version else None

    def put(self, instance_id: int, version: int, workflow: Any) -> None:
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > settings.get("WORKFLOW_CACHE_SIZE", 2000):
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = WorkflowCache()


@dataclass
class LiveInstance:
    id: int
    version: int
    definition: DefinitionInfo
    workflow: Any
    ready_before: set[str] = field(default_factory=set)
    timers_before: set[tuple[str, str]] = field(default_factory=set)


def start(session: Session, definition: DefinitionInfo, data: dict[str, Any]) -> LiveInstance:
    spec, subprocess_specs = definitions.spec_of(session, definition.id)
    workflow = runner.start(spec, subprocess_specs, data)
    now = clock.now()
    row = ProcessInstance(definition_id=definition.id, state=serializer.dump_state(workflow),
                          serializer_version=serializer.ENGINE_FORMAT_VERSION, version=1,
                          status=_status(workflow), created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    live = LiveInstance(row.id, 1, definition, workflow)
    _cache_after_commit(session, live)
    return live


def lock(session: Session, instance_id: int) -> LiveInstance:
    """Lock the instance row for this transaction and return its live workflow."""
    head = session.execute(select(ProcessInstance.version, ProcessInstance.definition_id)
                           .where(ProcessInstance.id == instance_id).with_for_update()).one_or_none()
    if head is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    version, definition_id = head
    workflow = cache.take(instance_id, version)
    if workflow is None:
        workflow = _load(session, instance_id, definition_id)
    return LiveInstance(instance_id, version, definitions.definition_info(session, definition_id), workflow,
                        ready_before=runner.ready_task_ids(workflow),
                        timers_before={(t.task_id, t.fire_at) for t in runner.waiting_timers(workflow)})


def read(session: Session, instance_id: int) -> tuple[Any, DefinitionInfo]:
    """A private copy of the workflow for read-only use (never cached, never saved)."""
    definition_id = session.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id))
    if definition_id is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    return _load(session, instance_id, definition_id), definitions.definition_info(session, definition_id)


def _load(session: Session, instance_id: int, definition_id: int) -> Any:
    state = session.scalar(select(ProcessInstance.state).where(ProcessInstance.id == instance_id))
    spec, subprocess_specs = definitions.spec_of(session, definition_id)
    return serializer.load_state(state, spec, subprocess_specs)


def save(session: Session, live: LiveInstance) -> None:
    """Write the workflow back; lose the race (409) if someone saved this instance meanwhile."""
    result = session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == live.id, ProcessInstance.version == live.version)
        .values(state=serializer.dump_state(live.workflow), version=live.version + 1,
                serializer_version=serializer.ENGINE_FORMAT_VERSION,
                status=_status(live.workflow), updated_at=clock.now())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"process instance {live.id} was changed by another request; reload and retry")
    live.version += 1
    _cache_after_commit(session, live)


def _status(workflow: Any) -> str:
    return "completed" if runner.is_completed(workflow) else "running"


def _cache_after_commit(session: Session, live: LiveInstance) -> None:
    session.info.setdefault(_PENDING_KEY, {})[live.id] = live


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    for live in session.info.pop(_PENDING_KEY, {}).values():
        cache.put(live.id, live.version, live.workflow)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
