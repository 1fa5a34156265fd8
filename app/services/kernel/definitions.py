"""Look up deployed process definitions, their specs and their forms, with the caches the hot path needs.

Deploying them is the designer's (app.services.designer.deployments); every domain looks them up."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from app.engine import runner
from app.engine.loader import SpecCache
from app.errors import NotFound, ProcessInvalid
from app.forms import FormBundle, check_schema_file, compile_validator
from app.models import Deployment, ProcessDefinition, table_of
from app.services.kernel import queries

Executor = Session | Connection  # the look-ups below work on either
_specs = SpecCache()
_forms: dict[tuple[int, str], dict[str, Any]] = {}
_bundles: dict[tuple[int, str], FormBundle] = {}


def remember_forms(deployment_id: int, forms: dict[str, dict[str, Any]]) -> None:
    """Forms parsed and checked to deploy them, kept so that the first case need not do it again. Call
    only after the deployment committed: the id is then this deployment's for good."""
    for name, form in forms.items():
        _forms[(deployment_id, name)] = form


def clear_caches() -> None:
    """Forget cached specs, forms and definition facts (a different database was configured)."""
    global _specs
    _specs = SpecCache()
    _forms.clear()
    _bundles.clear()
    _infos.clear()


@dataclass(frozen=True)
class DefinitionInfo:
    """What the hot path needs of a deployed version; immutable, so cached forever."""

    id: int
    key: str
    version: int
    name: str
    deployment_id: int
    start_form: str | None


_infos: dict[int, DefinitionInfo] = {}


def _info(row: Any) -> DefinitionInfo:
    info = DefinitionInfo(row.id, row.key, row.version, row.name, row.deployment_id, row.start_form)
    _infos[row.id] = info
    return info


_T = table_of(ProcessDefinition)


def latest_definition(session: Executor, key: str) -> DefinitionInfo:
    definition_id = queries.latest_definition_id(session, key)
    if definition_id is None:
        raise NotFound(f"process {key!r} has not been deployed")
    return definition_info(session, definition_id)


_INFO = select(_T.c.id, _T.c.key, _T.c.version, _T.c.name, _T.c.deployment_id, _T.c.start_form).where(
    _T.c.id == bindparam("b_id"))


def definition_info(session: Executor, definition_id: int) -> DefinitionInfo:
    info = _infos.get(definition_id)
    if info is None:
        row = session.execute(_INFO, {"b_id": definition_id}).one_or_none()
        if row is None:
            raise NotFound(f"process definition {definition_id} does not exist")
        info = _info(row)
    return info


def version_id(session: Executor, key: str, version: int) -> int | None:
    """The id of version `version` of process `key`, or None."""
    return session.scalar(select(_T.c.id).where(_T.c.key == key, _T.c.version == version))


def spec_of(session: Executor, definition_id: int) -> Any:
    def load() -> str:
        text = session.scalar(select(ProcessDefinition.spec_json).where(ProcessDefinition.id == definition_id))
        if text is None:
            raise NotFound(f"process definition {definition_id} does not exist")
        return text
    return _specs.get(definition_id, load)


def form_of(session: Executor, definition: DefinitionInfo, schema_file: str) -> FormBundle:
    """The form deployed with `definition` (running instances keep the forms of their version)."""
    key = (definition.deployment_id, schema_file)
    bundle = _bundles.get(key)
    if bundle is None:
        ui_file = schema_file.replace(".schema.json", ".uischema.json")
        schema = _form_file(session, definition.deployment_id, schema_file, required=True)
        bundle = FormBundle(key=schema_file.removesuffix(".schema.json"), schema=schema,
                            ui_schema=_form_file(session, definition.deployment_id, ui_file, required=False),
                            validator=compile_validator(schema))
        _bundles[key] = bundle
    return bundle


def source_names(session: Executor, definition: DefinitionInfo) -> list[str]:
    """The file names deployed with `definition` (for error messages; reads the deployment row)."""
    sources = session.execute(select(Deployment.sources).where(Deployment.id == definition.deployment_id)).scalar()
    return sorted(sources or {})


def _form_file(session: Executor, deployment_id: int, name: str, required: bool) -> dict[str, Any]:
    cached = _forms.get((deployment_id, name))
    if cached is None:
        sources = session.scalar(select(Deployment.sources).where(Deployment.id == deployment_id)) or {}
        text = sources.get(name)
        if text is None:
            if required:
                raise NotFound(f"form {name!r} is not part of deployment {deployment_id}")
            return {}
        cached, problems = check_schema_file(name, text.encode("utf-8"))
        if cached is None:
            raise ProcessInvalid(problems)
        _forms[(deployment_id, name)] = cached
    return cached


def declared_case_status(session: Executor, definition_id: int, bpmn_id: str) -> str | None:
    """The case status the diagram's task `bpmn_id` sets while it is open, when the diagram declares one
    as a literal (the shipped processes do); None otherwise."""
    return runner.declared_property(spec_of(session, definition_id), bpmn_id, "caseStatus")
