"""Plain values handed upward instead of SpiffWorkflow objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HumanTask:
    id: str
    bpmn_id: str
    title: str
    lane: str | None
    group: str | None
    form_key: str | None  # the form schema file (formJsonSchemaFilename), as the inbox row and the API name it
    form_ui_key: str | None
    properties: dict[str, str]
    data: dict[str, Any] = field(repr=False, default_factory=dict)
    time_limit: str | None = None  # ISO 8601 duration, evaluated from the task's timeLimit property
    working_days: bool = True  # timeLimitCalendar: "working" (default) or "calendar"
    case_status: str | None = None  # caseStatus: the case's status while this task is open
    procedure: str | None = None  # procedure: the procedure the case is in while this task is open


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    bpmn_id: str
    fire_at: str  # ISO 8601 as the engine reports it


@dataclass(frozen=True)
class ParsedProcess:
    """One executable process of a deployed bundle, ready to store."""

    key: str
    name: str
    spec_json: str
    start_form: str | None
    forms: tuple[str, ...]
    elements: tuple[str, ...]
