"""Turn rows into the API's plain dictionaries: times in the centre's zone, personal data masked."""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from app import clock
from app.models import AuditEntry, Case, Party
from app.services.kernel import policy, shapes
from app.services.kernel.principals import Principal


def local(value: datetime) -> datetime:
    """`value` in the centre's time zone."""
    return value.astimezone(clock.zone())


# Recent texts by the instant's identity: a step's one instant appears in several fields of its answer.
# An entry holds its instant, so no other object can take its identity meanwhile.
_ISO_TEXTS: dict[int, tuple[datetime, tzinfo, str]] = {}


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    zone = clock.zone()
    known = _ISO_TEXTS.get(id(value))
    if known is not None and known[0] is value and known[1] == zone:
        return known[2]
    text = value.astimezone(zone).isoformat(timespec="seconds")
    if len(_ISO_TEXTS) >= 512:
        _ISO_TEXTS.clear()
    _ISO_TEXTS[id(value)] = (value, zone, text)
    return text


def due_text(value: datetime | str | None) -> str:
    """A due instant as the centre counts it: a day limit ends at 24:00 of its last day, so a local
    midnight reads "2026-12-01 24:00", never the next day's 00:00 (pages and exports alike)."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    at = moment.astimezone(clock.zone())
    if (at.hour, at.minute, at.second) == (0, 0, 0):
        return f"{(at - timedelta(days=1)).date().isoformat()} 24:00"
    return at.strftime("%Y-%m-%d %H:%M")


def mask_phone(phone: str | None) -> str | None:
    if not phone or len(phone) < 7:
        return phone and "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str | None) -> str | None:
    if not number:
        return number
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)


def party(p: Party, reveal: bool) -> shapes.Party:
    return {"name": p.name, "role": p.role,
            "phone": p.phone if reveal else mask_phone(p.phone),
            "id_number": p.id_number if reveal else mask_id_number(p.id_number)}


def _amount(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def case_summary(case: Case) -> shapes.CaseSummary:
    # Reads queries.CASE_SUMMARY_COLUMNS only: a step's case row carries no more.
    return {"id": case.id, "case_no": case.case_no, "case_type": case.case_type, "title": case.title,
            "source": case.source,
            "external_id": case.external_id, "category": case.category, "urgency": case.urgency,
            "status": case.status, "procedure": case.procedure, "procedure_since": iso(case.procedure_since),
            "handling_group": case.handling_group, "outcome": case.outcome,
            "received_at": iso(case.received_at), "created_at": iso(case.created_at),
            "closed_at": iso(case.closed_at)}


def case_detail(case: Case, *, reveal: bool, tasks: list[shapes.TaskItem],
                timeline: list[AuditEntry], duplicates: list[dict[str, Any]] | None = None,
                attachments: list[dict[str, Any]] | None = None) -> shapes.CaseDetail:
    return {
        **case_summary(case),
        "description": case.description, "request": case.request, "risk_level": case.risk_level,
        "amount": _amount(case.amount), "location": {"grid": case.grid, "address": case.address},
        "willing_to_mediate": case.willing_to_mediate, "complexity": case.complexity,
        "satisfied": case.satisfied, "reopen_count": case.reopen_count, "created_by": case.created_by,
        "updated_at": iso(case.updated_at), "process_instance_id": case.process_instance_id,
        "parties": [party(p, reveal) for p in case.parties], "personal_data_masked": not reveal,
        "active_tasks": tasks,
        "possible_duplicates": duplicates or [],  # earlier cases of the same applicant and category
        "attachments": attachments or [],  # files attached to the case, oldest first
        "timeline": [{"at": iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail} for e in timeline],
    }


def task_item(task: Any, case_no: str) -> shapes.TaskItem:
    return {"id": task.id, "name": task.bpmn_id, "title": task.title, "case_id": task.case_id, "case_no": case_no,
            "case_type": task.case_type, "group": task.group_name, "assignee": task.assignee, "state": task.state,
            "created_at": iso(task.created_at), "due_at": iso(task.due_at),
            "due_provisional": bool(getattr(task, "due_provisional", False)), "completed_at": iso(task.completed_at),
            "escalation_level": task.escalation_level, "form_key": task.form_key}


def task_item_for(principal: Principal, task: Any) -> shapes.TaskItem:
    """The item as a person reads it: with what they may do with it (the pages show those buttons only)."""
    return {**task_item(task, task.case_no), **policy.task_actions(principal, task)}


def with_case_facts(item: shapes.TaskItem, row: Any) -> shapes.TaskItem:
    """The item with its case's facts (`row` carries them: app.services.kernel.tasklist.CASE_FACTS)."""
    item.update({"case_title": row.case_title, "category": row.category, "urgency": row.urgency,
                 "source": row.source, "external_id": row.external_id})
    return item
