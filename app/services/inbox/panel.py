"""The case panel beside a task's form: the case's facts and parties (masked as on the case page), what the
earlier steps recorded, and the supervisors' urges of this task — so that a mediator never handles a
dispute blind."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Case
from app.services.kernel import attachments, history, notifications, policy, present
from app.services.kernel.principals import Principal
from app.services.kernel.shapes import TaskItem


def case_panel(session: Session, principal: Principal, case_id: int) -> dict[str, Any]:
    """The task answer's "case": codes with their names beside them (`category_name`, ...)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    reveal = policy.reveals_personal_data(session, principal, case)
    labels = history.case_labels(session, case)
    panel: dict[str, Any] = {
        "id": case.id, "case_no": case.case_no, "title": case.title, "description": case.description,
        "request": case.request, "external_id": case.external_id, "status": case.status,
        "amount": float(case.amount) if case.amount is not None else None,
        "amount_text": history.money_text(case.amount) if case.amount is not None else None,
        "location": {"grid": case.grid, "address": case.address}, "received_at": present.iso(case.received_at),
        "parties": [present.party(p, reveal) for p in case.parties], "personal_data_masked": not reveal,
        "attachments": attachments.of_case(session, case.id)}
    for field in ("category", "urgency", "source", "risk_level"):
        code = getattr(case, field)
        panel[field] = code
        panel[f"{field}_name"] = labels.get(field, {}).get(code, code) if code else None
    return panel


def with_case(session: Session, principal: Principal, item: TaskItem, case_id: int, task_id: str) -> None:
    """Add the case panel, the history and the urges to a task's answer."""
    item["case"] = case_panel(session, principal, case_id)
    item["history"] = history.completed_steps(session, case_id)
    item["urges"] = notifications.urges_of_task(session, task_id)
