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
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app import clock
from app.database import after_commit
from app.engine import runner, serializer
from app.errors import ConcurrentUpdate, NotFound
from app.runtime import settings
from app.services.kernel import definitions, queries
from app.services.kernel.definitions import DefinitionInfo
from app.states import InstanceStatus


@dataclass
class LiveInstance:
    id: int
    version: int
    definition: DefinitionInfo
    workflow: Any
    ready_before: set[str] = field(default_factory=set)
    timers_before: set[tuple[str, str]] = field(default_factory=set)
    # The case row as this process's last step left it (projection.sync; None until then). Only steps
    # write the columns it covers and every step bumps `version`, so a cached instance's row is current.
    case_row: Any = None


class WorkflowCache:
    def __init__(self) -> None:
        self._items: OrderedDict[int, tuple[int, LiveInstance]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: int, version: int) -> LiveInstance | None:
        with self._lock:
            item = self._items.pop(instance_id, None)
        return item[1] if item is not None and item[0] == version else None

    def put(self, live: LiveInstance) -> None:
        with self._lock:
            self._items[live.id] = (live.version, live)
            self._items.move_to_end(live.id)
            while len(self._items) > settings.get("WORKFLOW_CACHE_SIZE", 2000):
                self._items.popitem(last=False)

    def forget(self, instance_id: int) -> None:
        with self._lock:
            self._items.pop(instance_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = WorkflowCache()


def start(conn: Connection, definition: DefinitionInfo, data: dict[str, Any],
          now: datetime | None = None) -> LiveInstance:
    spec, subprocess_specs = definitions.spec_of(conn, definition.id)
    workflow = runner.start(spec, subprocess_specs, data)
    now = now or clock.now()
    instance_id = queries.insert_instance(conn, {
        "definition_id": definition.id, "state": serializer.dump_state(workflow),
        "serializer_version": serializer.ENGINE_FORMAT_VERSION, "version": 1, "status": _status(workflow),
        "created_at": now, "updated_at": now})
    live = LiveInstance(instance_id, 1, definition, workflow)
    _cache_after_commit(conn, live)
    return live


class Busy(Exception):
    """The instance is locked by another transaction (only raised by lock(..., wait=False))."""


def lock(conn: Connection, instance_id: int, *, wait: bool = True) -> LiveInstance:
    """Lock the instance row for this transaction and return its live workflow. Background work passes
    wait=False: it skips a busy instance instead of waiting behind a command (no lock cycles)."""
    head = queries.lock_instance(conn, instance_id, wait=wait)
    if head is None:
        if not wait and queries.instance_definition(conn, instance_id) is not None:
            raise Busy(instance_id)
        raise NotFound(f"process instance {instance_id} does not exist")
    version, definition_id = head
    return locked(conn, instance_id, version, definition_id)


def locked(conn: Connection, instance_id: int, version: int, definition_id: int) -> LiveInstance:
    """The live workflow of an instance whose row this transaction has locked and read (`version`,
    `definition_id`): the cached object when it is current, else loaded."""
    cached = cache.take(instance_id, version)
    if cached is not None:
        return cached
    workflow = _load(conn, instance_id, definition_id)
    return LiveInstance(instance_id, version, definitions.definition_info(conn, definition_id), workflow,
                        ready_before=runner.ready_task_ids(workflow),
                        timers_before={(t.task_id, t.fire_at) for t in runner.waiting_timers(workflow)})


def lock_fresh(conn: Connection, instance_id: int) -> LiveInstance:
    """Lock the instance and load its workflow from the database, never the cache: for an operation that
    may throw the object away half-changed (a migration with problems)."""
    head = queries.lock_instance(conn, instance_id, wait=True)
    if head is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    cache.forget(instance_id)
    version, definition_id = head
    workflow = _load(conn, instance_id, definition_id)
    return LiveInstance(instance_id, version, definitions.definition_info(conn, definition_id), workflow,
                        ready_before=runner.ready_task_ids(workflow),
                        timers_before={(t.task_id, t.fire_at) for t in runner.waiting_timers(workflow)})


def rebase(conn: Connection, live: LiveInstance, definition: DefinitionInfo, now: datetime) -> None:
    """Save a migrated workflow on its new definition, with the version check (409 when it moved)."""
    saved = queries.rebase_instance(conn, live.id, expected_version=live.version, definition_id=definition.id,
                                    state=serializer.dump_state(live.workflow),
                                    serializer_version=serializer.ENGINE_FORMAT_VERSION, now=now)
    if not saved:
        raise ConcurrentUpdate(f"process instance {live.id} was changed by another request; reload and retry")
    live.version += 1
    live.definition = definition
    live.case_row = None


def lock_row_waiting(conn: Connection, instance_id: int) -> None:
    """Lock the instance row without loading its workflow, waiting for a command that holds it."""
    if queries.lock_instance(conn, instance_id, wait=True) is None:
        raise NotFound(f"process instance {instance_id} does not exist")


def lock_row(conn: Connection, instance_id: int) -> None:
    """Lock the instance row without loading its workflow, never waiting (Busy when taken)."""
    if queries.lock_instance(conn, instance_id, wait=False) is None:
        raise Busy(instance_id)


def release(conn: Connection, live: LiveInstance) -> None:
    """Give back a workflow that was locked but not changed (cached again once the transaction commits)."""
    _cache_after_commit(conn, live)


def read(conn: Session | Connection, instance_id: int) -> tuple[Any, DefinitionInfo]:
    """A private copy of the workflow for read-only use (never cached, never saved)."""
    definition_id = queries.instance_definition(conn, instance_id)
    if definition_id is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    return _load(conn, instance_id, definition_id), definitions.definition_info(conn, definition_id)


def _load(conn: Session | Connection, instance_id: int, definition_id: int) -> Any:
    state = queries.instance_state(conn, instance_id)
    spec, subprocess_specs = definitions.spec_of(conn, definition_id)
    return serializer.load_state(state, spec, subprocess_specs)


def save(conn: Connection, live: LiveInstance, now: datetime | None = None) -> None:
    """Write the workflow back; lose the race (409) if someone saved this instance meanwhile.
    Callers then run projection.sync, which also brings `live`'s ready/timer sets up to date."""
    saved = queries.save_instance(conn, live.id, expected_version=live.version,
                                  state=serializer.dump_state(live.workflow), status=_status(live.workflow),
                                  serializer_version=serializer.ENGINE_FORMAT_VERSION, now=now or clock.now())
    if not saved:
        raise ConcurrentUpdate(f"process instance {live.id} was changed by another request; reload and retry")
    live.version += 1
    _cache_after_commit(conn, live)


def _status(workflow: Any) -> str:
    return InstanceStatus.COMPLETED if runner.is_completed(workflow) else InstanceStatus.RUNNING


def _cache_after_commit(connection: Connection, live: LiveInstance) -> None:
    # A finished process takes no more steps: keep the memory for the cases still moving.
    if not runner.is_completed(live.workflow):
        after_commit(connection, lambda: cache.put(live))
