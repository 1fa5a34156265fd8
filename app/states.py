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
    SUSPENDED = "suspended"  # its case is suspended (中止): not due until it resumes, then moved later


class CaseStatus(StrEnum):
    """`cases.status`, as route.md names them; the diagram's `caseStatus` property sets them."""

    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    IN_CHANNEL = "in_channel"  # on the rule-of-law roadmap, outside mediation
    FEEDBACK = "feedback"
    CLOSED = "closed"
    SUSPENDED = "suspended"  # 中止 by an operator: nothing fires or completes until it resumes
    CANCELLED = "cancelled"  # 撤销 by an operator (a duplicate registration): counted neither closed nor open


class InstanceStatus(StrEnum):
    """`process_instances.status`: whether the engine still has work for the process."""

    RUNNING = "running"
    COMPLETED = "completed"
    SUSPENDED = "suspended"  # an operator suspended its case
    CANCELLED = "cancelled"  # an operator cancelled its case; the engine's state is kept as it was


TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.OPEN: frozenset({TaskState.COMPLETED, TaskState.CANCELLED}),
    TaskState.COMPLETED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}

TIMER_TRANSITIONS: dict[TimerState, frozenset[TimerState]] = {
    # A failed attempt keeps the row waiting (with a later fire time) until the last attempt fails.
    TimerState.WAITING: frozenset({TimerState.FIRED, TimerState.CANCELLED, TimerState.FAILED, TimerState.SUSPENDED}),
    TimerState.FIRED: frozenset(),
    TimerState.CANCELLED: frozenset(),
    # An operator's retry of a timer incident puts it back in the queue.
    TimerState.FAILED: frozenset({TimerState.WAITING}),
    TimerState.SUSPENDED: frozenset({TimerState.WAITING, TimerState.CANCELLED}),
}

# A case's status follows the node its process waits at; designers may route back (a return to dispatch,
# an unsatisfied visit that reopens the case), so any working status may follow any other. Operators
# suspend and cancel; a suspended case resumes to a working status (the one it had) or is cancelled.
# Closing and cancelling are final.
WORKING_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED, CaseStatus.SUSPENDED, CaseStatus.CANCELLED}
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    **{status: frozenset(CaseStatus) - {status} for status in WORKING_STATUSES},
    CaseStatus.SUSPENDED: WORKING_STATUSES | {CaseStatus.CANCELLED},
    CaseStatus.CLOSED: frozenset(),
    CaseStatus.CANCELLED: frozenset(),
}

INSTANCE_TRANSITIONS: dict[InstanceStatus, frozenset[InstanceStatus]] = {
    InstanceStatus.RUNNING: frozenset({InstanceStatus.COMPLETED, InstanceStatus.SUSPENDED, InstanceStatus.CANCELLED}),
    InstanceStatus.SUSPENDED: frozenset({InstanceStatus.RUNNING, InstanceStatus.CANCELLED}),
    InstanceStatus.COMPLETED: frozenset(),
    InstanceStatus.CANCELLED: frozenset(),
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
