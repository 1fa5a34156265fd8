"""Case types: every deployed process whose start event names a form can be started as a case.

Other processes (a called sub-process, a decision-only helper) are only called. The default type is the
route Concord was built around; a version of it whose start event names no form still registers with
the registration form deployed beside it (the deployments before start forms were declared)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.database import db
from app.errors import ValidationFailed
from app.forms import FormBundle
from app.models import ProcessDefinition
from app.services.kernel import definitions, queries
from app.services.kernel.definitions import DefinitionInfo, Executor

DEFAULT = "dispute_case"
DEFAULT_START_FORM = "register_case.schema.json"
FIELD = "case_type"
# Start-form fields kept on the case row only. The process gets every other field of its start form
# (for dispute_case: source, category, urgency, amount, risk_level, willing_to_mediate); personal data
# (parties) and free texts stay out of the process state. Intake starts cases so; the dry run walks so.
CASE_ROW_ONLY = frozenset({"title", "description", "request", "parties", "location", "external_id"})


def _latest_rows(session: Executor) -> list[Any]:
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    return list(session.execute(
        select(ProcessDefinition.id).join(newest, (newest.c.key == ProcessDefinition.key)
                                          & (newest.c.version == ProcessDefinition.version))
        .where(ProcessDefinition.start_form.is_not(None) | (ProcessDefinition.key == DEFAULT))))


def latest(session: Executor) -> list[DefinitionInfo]:
    """The latest version of every case type, the default first, then by key."""
    infos = [definitions.definition_info(session, row.id) for row in _latest_rows(session)]
    return sorted(infos, key=lambda info: (info.key != DEFAULT, info.key))


def is_case_type(info: DefinitionInfo) -> bool:
    return info.start_form is not None or info.key == DEFAULT


def definition_of(session: Executor, key: Any) -> DefinitionInfo:
    """The latest version of case type `key`; 422 naming it when no deployed process of that key can be
    started as a case (and for anything but a text)."""
    if not isinstance(key, str) or not key:
        raise ValidationFailed.of_field(FIELD, "案件类型须为文本", "case_type must be a text")
    definition_id = queries.latest_definition_id(session, key)
    info = definitions.definition_info(session, definition_id) if definition_id is not None else None
    if info is None or not is_case_type(info):
        shown = key[:64]
        raise ValidationFailed.of_field(
            FIELD, f"没有名为“{shown}”的案件类型（已部署且开始事件指定了表单的流程）",
            f"there is no case type {shown!r} (a deployed process whose start event names a form)")
    return info


def start_form(session: Executor, info: DefinitionInfo) -> FormBundle:
    """The start form of a case type's version (running cases keep their version's form)."""
    return definitions.form_of(session, info, info.start_form or DEFAULT_START_FORM)


def listing() -> list[dict[str, Any]]:
    """`GET /case-types`: key, name (the process's own), version and start form of the latest versions."""
    with db.transaction() as session:
        answer = []
        for info in latest(session):
            form = start_form(session, info)
            answer.append({"key": info.key, "name": info.name, "version": info.version,
                           "form": {"key": form.key, "schema": form.schema, "ui_schema": form.ui_schema}})
        return answer


def names() -> dict[str, str]:
    """Display names by key, for pages, reports and exports (people read names, not keys). A type whose
    process is no longer a case type keeps the name of its latest version."""
    with db.transaction() as session:
        newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
                  .group_by(ProcessDefinition.key).subquery())
        rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.name).join(
            newest, (newest.c.key == ProcessDefinition.key) & (newest.c.version == ProcessDefinition.version)))
        return {key: name or key for key, name in rows}


def name_of(key: str | None, known: dict[str, str] | None = None) -> str:
    if key is None:
        return ""
    return (known if known is not None else names()).get(key, key)


def field_choices(field: str) -> dict[str, str]:
    """A start-form field's codes with the names the forms give them (x-enumNames), over the latest
    versions of every case type: what an inbox filter offers for `category`, `urgency` or `source`."""
    choices: dict[str, str] = {}
    for case_type in listing():
        spec = case_type["form"]["schema"].get("properties", {}).get(field, {})
        codes = spec.get("enum") or []
        names = spec.get("x-enumNames") or codes
        for code, name in zip(codes, names, strict=False):
            if isinstance(code, str):
                choices.setdefault(code, str(name))
    return choices
