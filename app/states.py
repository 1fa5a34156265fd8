"""Every state a task, timer, case or process instance can be in, and the moves between them, in one place.

After viewflow's `workflow/status.py`: the states are `StrEnum`s, so they are stored and compared as the
plain texts they always were (`TaskState.OPEN == "open"`), and the allowed transitions sit next to them.
Writers ask `require_transition` before a state change that is not already guarded by its own SQL
condition; a test walks every transition table so that a state nobody can leave or reach stands out.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class TaskState(StrEnum):
    """An inbox row (`tasks.state`)."""

    OPEN = "open"
    COMPLETED = "completed"  # by an officer, or by the process (a boundary event, a message)
    CANCELLED = "cancelled"  # left by the process without being done (an interrupting timer, the case moved on)


class TimerState(StrEnum):
    """A row of the `timers` table: an escalation rung or a BPMN timer the timer service fires."""

    WAITING = "waiting"
    FIRED = "fired"
    CANCELLED = "cancelled"  # its task was done before it came due
    FAILED = "failed"  # gave up after the configured attempts: an incident


class CaseStatus(StrEnum):
    """`cases.status`, as route.md names them; the diagram's `caseStatus` property sets them."""

    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    IN_CHANNEL = "in_channel"  # on the rule-of-law roadmap, outside mediation
    FEEDBACK = "feedback"
    CLOSED = "closed"


class InstanceStatus(StrEnum):
    """`process_instances.status`: whether the engine still has work for the process."""

    RUNNING = "running"
    COMPLETED = "completed"


TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.OPEN: frozenset({TaskState.COMPLETED, TaskState.CANCELLED}),
    TaskState.COMPLETED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}

TIMER_TRANSITIONS: dict[TimerState, frozenset[TimerState]] = {
    # A failed attempt keeps the row waiting (with a later fire time) until the last attempt fails.
    TimerState.WAITING: frozenset({TimerState.FIRED, TimerState.CANCELLED, TimerState.FAILED}),
    TimerState.FIRED: frozenset(),
    TimerState.CANCELLED: frozenset(),
    TimerState.FAILED: frozenset(),
}

# A case's status follows the node its process waits at; designers may route back (a return to dispatch,
# an unsatisfied visit that reopens the case), so any open status may follow any other. Only closing is final.
_OPEN_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED}
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    **{status: frozenset(CaseStatus) - {status} for status in _OPEN_STATUSES},
    CaseStatus.CLOSED: frozenset(),
}

INSTANCE_TRANSITIONS: dict[InstanceStatus, frozenset[InstanceStatus]] = {
    InstanceStatus.RUNNING: frozenset({InstanceStatus.COMPLETED}),
    InstanceStatus.COMPLETED: frozenset(),
}


class TransitionRefused(ValueError):
    """A state change the tables above do not allow: a programming error, never user input."""


def require_transition(table: Mapping[Any, frozenset[Any]], current: str, new: str) -> None:
    """Raise TransitionRefused unless `table` allows moving from `current` to `new` (staying put is allowed)."""
    if current == new:
        return
    allowed = table.get(current)  # StrEnum keys hash and compare as their texts
    if allowed is None or new not in allowed:
        raise TransitionRefused(f"a state change from {current!r} to {new!r} is not allowed")
