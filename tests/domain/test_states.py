"""The states of tasks, timers, cases and instances and the moves between them (app.states)."""
from __future__ import annotations

import pytest

from app.states import (
    CASE_TRANSITIONS,
    INSTANCE_TRANSITIONS,
    TASK_TRANSITIONS,
    TIMER_TRANSITIONS,
    CaseStatus,
    TaskState,
    TimerState,
    TransitionRefused,
    require_transition,
)

TABLES = [TASK_TRANSITIONS, TIMER_TRANSITIONS, CASE_TRANSITIONS, INSTANCE_TRANSITIONS]


@pytest.mark.parametrize("table", TABLES)
def test_every_state_has_a_row_and_every_state_but_the_first_is_reachable(table: dict) -> None:
    states = list(type(next(iter(table))))
    assert set(table) == set(states)
    reachable = set().union(*table.values())
    assert set(states[1:]) <= reachable, "a state no transition reaches"


def test_states_are_the_texts_the_database_and_the_api_hold() -> None:
    assert TaskState.OPEN == "open" and f"{TimerState.WAITING}" == "waiting" and CaseStatus.IN_CHANNEL == "in_channel"


def test_a_finished_task_cannot_reopen_and_a_closed_case_cannot_move() -> None:
    require_transition(TASK_TRANSITIONS, TaskState.OPEN, TaskState.COMPLETED)
    with pytest.raises(TransitionRefused):
        require_transition(TASK_TRANSITIONS, TaskState.COMPLETED, TaskState.OPEN)
    with pytest.raises(TransitionRefused):
        require_transition(CASE_TRANSITIONS, "closed", "dispatched")
    require_transition(CASE_TRANSITIONS, "feedback", "dispatched")  # an unsatisfied visit reopens the case
    require_transition(CASE_TRANSITIONS, "closed", "closed")  # staying put is no move


def test_a_fired_timer_is_final() -> None:
    with pytest.raises(TransitionRefused):
        require_transition(TIMER_TRANSITIONS, TimerState.FIRED, TimerState.WAITING)
