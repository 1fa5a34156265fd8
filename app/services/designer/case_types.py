"""Refusals that keep intake working: a process whose start event names a form is a case type (cases are
registered through that form); a new version may neither drop the form nor lose the case fields.

Why: a dispute_case version deployed without its registration form made every registration answer 404."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.database import db
from app.engine.records import ParsedProcess
from app.errors import Bilingual, ProblemLocation
from app.models import ProcessDefinition

CASE_FIELDS = ("title", "source")  # what every case row needs from its start form


def _start_forms_in_force(keys: list[str]) -> dict[str, tuple[int, str | None]]:
    """The start form of the latest deployed version of each key (key -> (version, form))."""
    if not keys:
        return {}
    with db.transaction() as session:
        latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
                  .where(ProcessDefinition.key.in_(keys)).group_by(ProcessDefinition.key).subquery())
        rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.start_form)
                               .join(latest, (latest.c.key == ProcessDefinition.key)
                                     & (latest.c.version == ProcessDefinition.version))).all()
    return {key: (version, form) for key, version, form in rows}


def refusals(processes: list[ParsedProcess], forms: dict[str, dict[str, Any]]) -> list[ProblemLocation]:
    problems: list[ProblemLocation] = []
    in_force = _start_forms_in_force([p.key for p in processes])
    for process in processes:
        if process.start_form is None:
            version, form = in_force.get(process.key, (0, None))
            if form is not None:
                problems.append(ProblemLocation(None, None, process.key, Bilingual(
                    f"流程 {process.key} 是案件类型（已部署的 v{version} 以 {form} 登记案件），新版本的开始事件"
                    "必须仍指定登记表单（formJsonSchemaFilename），否则无法再登记此类案件",
                    f"process {process.key!r} is a case type (v{version} registers cases with {form}): the start "
                    "event of the new version must still name a start form (formJsonSchemaFilename), or no "
                    "case of this type could be registered")))
            continue
        schema = forms.get(process.start_form) or {}
        properties = schema.get("properties")
        declared: dict[str, Any] = properties if isinstance(properties, dict) else {}
        lacking = [name for name in CASE_FIELDS if name not in declared]
        if lacking:
            problems.append(ProblemLocation(process.start_form, None, process.key, Bilingual(
                f"流程 {process.key} 的登记表单 {process.start_form} 缺少案件字段：{'、'.join(lacking)}"
                "（每个案件类型的登记表单须声明 title 和 source）",
                f"the start form {process.start_form} of process {process.key!r} does not declare the case "
                f"field(s) {', '.join(lacking)} (every case type's start form declares title and source)")))
    return problems
