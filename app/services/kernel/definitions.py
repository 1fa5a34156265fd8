"""Deploy and look up process definitions (designers' use cases) and their forms."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.engine.loader import SpecCache, parse_bundle
from app.engine.views import ParsedProcess
from app.errors import Conflict, NotFound, ProblemLocation, ProcessInvalid
from app.extensions import db
from app.forms import FormBundle, check_schema_file, compile_validator
from app.models import Deployment, ProcessDefinition, table_of
from app.prepared import Prepared
from app.services.accounts.auth import Principal
from app.services.kernel import audit, present

Executor = Session | Connection  # the look-ups below work on either
ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json")
_specs = SpecCache()
_forms: dict[tuple[int, str], dict[str, Any]] = {}
_bundles: dict[tuple[int, str], FormBundle] = {}


def clear_caches() -> None:
    """Forget cached specs, forms and definition facts (a different database was configured)."""
    global _specs
    _specs = SpecCache()
    _forms.clear()
    _bundles.clear()
    _infos.clear()


@dataclass
class ValidationReport:
    valid: bool
    errors: list[ProblemLocation] = field(default_factory=list)
    warnings: list[ProblemLocation] = field(default_factory=list)
    processes: list[ParsedProcess] = field(default_factory=list)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)  # parsed form files by name


MAX_NAME = 200


def _plain_name(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and not any(ch in "/\\" or ord(ch) < 32 or ord(ch) == 127 for ch in name)


def _check(files: dict[str, bytes]) -> ValidationReport:
    errors: list[ProblemLocation] = []
    if not files:
        errors.append(ProblemLocation(None, None, None, "no files were sent"))
    for name in files:
        if not name.endswith(ALLOWED_SUFFIXES):
            errors.append(ProblemLocation(name, None, None, "only .bpmn, .dmn and form .json files are accepted"))
        if not _plain_name(name):
            # The name comes back in downloads (headers, zip entries) and in references between files.
            errors.append(ProblemLocation(name.encode("unicode_escape").decode("ascii"), None, None,
                                          "a file name may not contain control characters, slashes or be "
                                          f"longer than {MAX_NAME} characters"))
        try:
            files[name].decode("utf-8")
        except UnicodeDecodeError as exc:
            line = files[name].count(b"\n", 0, exc.start) + 1
            errors.append(ProblemLocation(name, line, None, "the file is not UTF-8; save it as UTF-8"))
    forms = {name for name in files if name.endswith(".json")}
    parsed: dict[str, dict[str, Any]] = {}
    for name in sorted(forms):
        form, problems = check_schema_file(name, files[name])
        errors.extend(problems)
        if form is not None:
            parsed[name] = form
    processes: list[ParsedProcess] = []
    try:
        processes = parse_bundle(files, forms)
    except ProcessInvalid as exc:
        errors.extend(exc.problems)
    return ValidationReport(valid=not errors, errors=errors, processes=processes, forms=parsed)


def validate(principal: Principal, files: dict[str, bytes]) -> ValidationReport:
    principal.require_role("designer")
    return _check(files)


def deploy(principal: Principal, files: dict[str, bytes]) -> tuple[list[dict[str, Any]], bool]:
    """Deploy a new version of every process in `files`. Returns (definitions, created);
    re-deploying the files of the latest versions creates nothing and returns those versions."""
    principal.require_role("designer")
    report = _check(files)
    if not report.valid:
        raise ProcessInvalid(report.errors)
    try:
        return _store(principal, files, report, _bundle_hash(files))
    except IntegrityError as exc:  # (key, version) is unique: a concurrent deploy took the number
        raise Conflict("another deployment of the same process finished at the same moment; deploy again") from exc


def _store(principal: Principal, files: dict[str, bytes], report: ValidationReport,
           content_hash: str) -> tuple[list[dict[str, Any]], bool]:
    with db.transaction() as session:
        existing = _latest_with_hash(session, content_hash)
        if existing:
            deployment_id, summaries, created = existing[0].deployment_id, [_summary(d, True) for d in existing], False
        else:
            deployment_id, definitions = _insert(session, principal, files, report, content_hash)
            summaries, created = [_summary(d, latest=True) for d in definitions], True
    _keep_forms(deployment_id, report.forms)  # committed: the id is this deployment's for good
    return summaries, created


def _latest_with_hash(session: Session, content_hash: str) -> list[ProcessDefinition]:
    """The versions deployed from these very files, when they are still the latest of their processes.
    Files identical to an older version deploy anew: that is how a designer rolls back a bad version."""
    rows = session.scalars(select(ProcessDefinition).where(ProcessDefinition.content_hash == content_hash)
                           .order_by(ProcessDefinition.id)).all()
    last_of_key = {row.key: row for row in rows}  # the files may have been deployed more than once
    newest: dict[str, int] = {key: version for key, version in session.execute(
        select(ProcessDefinition.key, func.max(ProcessDefinition.version))
        .where(ProcessDefinition.key.in_(last_of_key)).group_by(ProcessDefinition.key))}
    if not rows or any(newest[key] != row.version for key, row in last_of_key.items()):
        return []
    return sorted(last_of_key.values(), key=lambda row: row.id)


def _insert(session: Session, principal: Principal, files: dict[str, bytes], report: ValidationReport,
            content_hash: str) -> tuple[int, list[ProcessDefinition]]:
    now = clock.now()
    deployment = Deployment(content_hash=content_hash, deployed_by=principal.username, deployed_at=now,
                            sources={name: content.decode("utf-8") for name, content in sorted(files.items())})
    session.add(deployment)
    session.flush()
    created = []
    for process in report.processes:
        version = (session.scalar(select(func.max(ProcessDefinition.version))
                                  .where(ProcessDefinition.key == process.key)) or 0) + 1
        definition = ProcessDefinition(
            key=process.key, version=version, name=process.name, content_hash=content_hash,
            spec_json=process.spec_json, start_form=process.start_form, elements=list(process.elements),
            deployment_id=deployment.id, deployed_by=principal.username, deployed_at=now)
        session.add(definition)
        created.append(definition)
    session.flush()
    audit.record(session, actor=principal.username, action="definitions.deployed",
                 detail={"files": sorted(files), "processes": [f"{d.key}:{d.version}" for d in created]})
    return deployment.id, created


def _keep_forms(deployment_id: int, forms: dict[str, dict[str, Any]]) -> None:
    """The forms were parsed and checked to deploy them: the first case need not do it again."""
    for name, form in forms.items():
        _forms[(deployment_id, name)] = form


def _bundle_hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _summary(definition: ProcessDefinition, latest: bool | None) -> dict[str, Any]:
    return {"key": definition.key, "version": definition.version, "name": definition.name,
            "deployed_at": present.iso(definition.deployed_at), "deployed_by": definition.deployed_by,
            "is_latest": latest}


def list_definitions(principal: Principal) -> list[dict[str, Any]]:
    principal.require_role("designer", "supervisor")
    with db.transaction() as session:
        rows = session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                  ProcessDefinition.version.desc())).all()
        latest: dict[str, int] = {}
        for row in rows:
            latest.setdefault(row.key, row.version)
        return [_summary(row, latest=latest[row.key] == row.version) for row in rows]


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
# Every registration asks for the latest version: run on the driver (see app.prepared).
_LATEST_ID = Prepared(select(_T.c.id).where(_T.c.key == bindparam("b_key")).order_by(_T.c.version.desc()).limit(1))


def latest_definition(session: Executor, key: str) -> DefinitionInfo:
    definition_id = _LATEST_ID.run(session, {"b_key": key}).scalar()
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


def start_form(key: str, default: str) -> dict[str, Any]:
    """The start form of the latest version of process `key` (the registration form, for pages)."""
    with db.transaction() as session:
        definition = latest_definition(session, key)
        form = form_of(session, definition, definition.start_form or default)
        return {"key": form.key, "schema": form.schema, "ui_schema": form.ui_schema}
