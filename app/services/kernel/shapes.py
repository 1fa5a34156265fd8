"""The shapes services hand to the web: what an inbox item, a case summary and a case detail hold.

They are the JSON answers of the API as they are (api.md), typed so that a key that changes or goes
missing is found by mypy instead of by a page."""
from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class TaskItem(TypedDict):
    id: str  # the engine's task id
    name: str  # the BPMN id (route.md): dispatch, handle, ...
    title: str  # the display name (分流交办)
    case_id: int
    case_no: str
    case_type: str  # the key of the case's type (its process)
    group: str | None
    assignee: str | None
    state: str  # a TaskState
    created_at: str | None
    due_at: str | None
    due_provisional: bool  # counted in a year without calendar data
    completed_at: str | None
    escalation_level: int  # 0 on time, 1 warning, 2 overdue, 3 listed
    form_key: str | None
    # The case's facts, on the inbox's and the board's items and on a task opened on its own.
    case_title: NotRequired[str]
    category: NotRequired[str | None]
    urgency: NotRequired[str]
    source: NotRequired[str]
    external_id: NotRequired[str | None]
    # What the caller may do with it (app.services.kernel.policy), on items read for a person.
    can_claim: NotRequired[bool]
    can_unclaim: NotRequired[bool]
    can_complete: NotRequired[bool]
    can_assign: NotRequired[bool]
    can_urge: NotRequired[bool]
    can_list: NotRequired[bool]
    overdue_seconds: NotRequired[int]  # on the escalation board and the daily list
    form: NotRequired[dict[str, Any] | None]  # a task opened on its own: its form and prefill
    data: NotRequired[dict[str, Any]]  # ... the prefill: the saved draft over the form's suggestions
    draft: NotRequired[dict[str, Any] | None]  # ... who saved the draft and when (app.services.inbox.drafts)
    case: NotRequired[dict[str, Any]]  # a task opened on its own: the case panel (app.services.inbox.panel)
    history: NotRequired[list[dict[str, Any]]]  # ... what the earlier steps recorded, labelled
    urges: NotRequired[list[dict[str, Any]]]  # ... the supervisors' urges and listings of this task


class Party(TypedDict):
    name: str
    role: str  # applicant, respondent, third_party
    phone: str | None  # masked unless the caller handles the case
    id_number: str | None


class CaseSummary(TypedDict):
    id: int
    case_no: str
    case_type: str  # the key of its type: the process it was registered as (GET /case-types)
    title: str
    source: str
    external_id: str | None
    category: str | None
    urgency: str
    status: str  # a CaseStatus
    procedure: str | None
    procedure_since: str | None
    handling_group: str | None
    outcome: str | None
    received_at: str | None
    created_at: str | None
    closed_at: str | None
    process_instance_id: NotRequired[int | None]
    active_tasks: NotRequired[list[TaskItem]]  # on a registration's answer and on the case detail


class TimelineEntry(TypedDict):
    at: str | None
    actor: str
    action: str
    detail: Any


class CaseDetail(CaseSummary):
    description: str
    request: str | None
    risk_level: str | None
    amount: float | None
    location: dict[str, str | None]
    willing_to_mediate: bool | None
    complexity: str | None
    satisfied: bool | None
    reopen_count: int
    created_by: str
    updated_at: str | None
    parties: list[Party]
    personal_data_masked: bool
    possible_duplicates: list[dict[str, Any]]  # earlier cases of the same applicant and category
    attachments: list[dict[str, Any]]  # files attached to the case (app.services.intake.attachments)
    timeline: list[TimelineEntry]


class IncidentItem(TypedDict):
    """An unresolved incident (app.services.kernel.incidents) as the escalation board lists it."""

    id: int
    # "step" for a step that failed inside the engine; for a timer, the timer's kind (engine, warning, overdue,
    # listed), as the board has always answered it. `incident_kind` is "step" or "timer" for both.
    kind: str
    incident_kind: str
    timer: int | None  # the timer's id (timer incidents)
    task_id: str | None
    name: str  # the timer's BPMN id for a timer, else the element
    element: str  # where it failed: a BPMN id, or "the process state"
    element_name: str | None  # the element's display name (签收)
    operation: str  # register, complete, message, open, diagram, timer
    case_id: int | None  # none for a registration that failed
    case_no: str | None
    attempts: int  # a timer's attempts; a step's occurrences
    occurrences: int
    error: str
    created_at: str | None
    last_seen_at: str | None
