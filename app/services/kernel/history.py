"""What earlier steps of a case recorded, as people read it: who completed which step when, and each field
they filled in by its form label, codes by their names, amounts as money (app.forms.labels).

Read from the audit log's `task.completed` records (the data exactly as submitted) and the form each task
was completed with (the form of its instance's deployed version). The task page's case panel and the case
page both show it; it is in the kernel because inbox and intake both read it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, ProcessInvalid
from app.forms.labels import enum_names, labelled_values, money
from app.models import AuditEntry, Case, ProcessInstance, TaskRow, User
from app.services.kernel import definitions, present


def completed_steps(session: Session, case_id: int) -> list[dict[str, Any]]:
    """[{"task", "title", "actor", "actor_name", "at", "values": [{"field", "label", "value", "text"}]}],
    oldest first."""
    rows = session.execute(
        select(AuditEntry.at, AuditEntry.actor, AuditEntry.detail, TaskRow.form_key, ProcessInstance.definition_id)
        .join(TaskRow, TaskRow.id == AuditEntry.task_id)
        .join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
        .where(AuditEntry.case_id == case_id, AuditEntry.action == "task.completed")
        .order_by(AuditEntry.seq)).all()
    names = _display_names(session, {row.actor for row in rows})
    steps = []
    for row in rows:
        detail = row.detail or {}
        data = detail.get("data") or {}
        steps.append({"task": detail.get("task"), "title": detail.get("title"), "actor": row.actor,
                      "actor_name": names.get(row.actor, row.actor), "at": present.iso(row.at),
                      "values": _labelled(session, row.definition_id, row.form_key, data)})
    return steps


def _labelled(session: Session, definition_id: int, form_key: str | None, data: dict[str, Any]) -> list[dict[str, Any]]:
    if not form_key:
        return labelled_values({}, None, data)
    try:
        form = definitions.form_of(session, definitions.definition_info(session, definition_id), form_key)
    except (NotFound, ProcessInvalid):  # a form no longer readable: the values under their field names
        return labelled_values({}, None, data)
    return labelled_values(form.schema, form.ui_schema, data)


def _display_names(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return dict(session.execute(select(User.username, User.display_name)
                                .where(User.username.in_(sorted(usernames)))).tuples().all())


def case_labels(session: Session, case: Case) -> dict[str, dict[str, str]]:
    """Names of the coded fields of a case (source, category, urgency, outcome, ...) from the forms of its
    process version: {"source": {"walk_in": "窗口来访"}, ...}."""
    labels: dict[str, dict[str, str]] = {}
    instance = session.get(ProcessInstance, case.process_instance_id) if case.process_instance_id else None
    if instance is None:
        return labels
    info = definitions.definition_info(session, instance.definition_id)
    keys: list[str | None] = [info.start_form]
    keys += session.scalars(select(TaskRow.form_key).where(TaskRow.case_id == case.id, TaskRow.form_key.is_not(None))
                            .distinct()).all()
    for key in dict.fromkeys(k for k in keys if k):
        try:
            form = definitions.form_of(session, info, key)
        except (NotFound, ProcessInvalid):
            continue
        for name, spec in (form.schema.get("properties") or {}).items():
            if isinstance(spec, dict) and "enum" in spec:
                labels.setdefault(name, {}).update({str(k): v for k, v in enum_names(spec).items()})
    return labels


def money_text(value: Any) -> str:
    return money(value)
