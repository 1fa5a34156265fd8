"""Validate and deploy process definitions: the designer's use cases.

A deployment is a set of files; each process in it becomes the next version of its key. Look-ups of what
was deployed are the kernel's (app.services.kernel.definitions)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.engine import references
from app.engine.lint import group_references
from app.engine.loader import parse_bundle
from app.engine.records import ParsedProcess
from app.engine.xml import as_utf8
from app.errors import Bilingual, Conflict, ProblemLocation, ProcessInvalid
from app.forms import check_schema_file
from app.models import Deployment, ProcessDefinition
from app.services.designer import case_types, dry_run, resolution
from app.services.kernel import audit, definitions, directory, present
from app.services.kernel.principals import Principal

ALLOWED_SUFFIXES = (".bpmn", ".dmn", ".json")


@dataclass
class ValidationReport:
    valid: bool
    errors: list[ProblemLocation] = field(default_factory=list)
    warnings: list[ProblemLocation] = field(default_factory=list)
    processes: list[ParsedProcess] = field(default_factory=list)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)  # parsed form files by name
    dry_run: dict[str, Any] | None = None  # app.services.designer.dry_run.run's answer (None: not walked)
    files: dict[str, bytes] = field(default_factory=dict)  # what is deployed: the upload (as UTF-8) and what it
    # took from the latest deployments


MAX_NAME = 200


def _plain_name(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and not any(ch in "/\\" or ord(ch) < 32 or ord(ch) == 127 for ch in name)


def _check(upload: dict[str, bytes]) -> ValidationReport:
    errors: list[ProblemLocation] = []
    if not upload:
        errors.append(ProblemLocation(None, None, None, Bilingual("没有收到文件", "no files were sent")))
    files: dict[str, bytes] = {}
    for name, content in upload.items():
        if not name.endswith(ALLOWED_SUFFIXES):
            errors.append(ProblemLocation(name, None, None, Bilingual(
                "只接受 .bpmn、.dmn 和表单 .json 文件", "only .bpmn, .dmn and form .json files are accepted")))
        if not _plain_name(name):
            # The name comes back in downloads (headers, zip entries) and in references between files.
            errors.append(ProblemLocation(name.encode("unicode_escape").decode("ascii"), None, None, Bilingual(
                f"文件名不能含控制字符或斜杠，也不能超过 {MAX_NAME} 个字符",
                f"a file name may not contain control characters, slashes or be longer than {MAX_NAME} characters")))
        text, problem = _readable(name, content)
        if problem:
            errors.append(problem)
        else:
            files[name] = text
    resolved = resolution.resolve(files)
    files = resolved.files
    forms = {name for name in files if name.endswith(".json")}
    parsed: dict[str, dict[str, Any]] = {}
    for name in sorted(forms):
        form, problems = check_schema_file(name, files[name])
        errors.extend(problems)
        if form is not None:
            parsed[name] = form
    processes: list[ParsedProcess] = []
    try:
        processes = parse_bundle(files, forms, resolved=frozenset(resolved.taken))
    except ProcessInvalid as exc:
        errors.extend(exc.problems)
    if not errors:
        errors.extend(case_types.refusals(processes, parsed))
    warnings = resolved.warnings + _unknown_groups(files)
    walked: dict[str, Any] | None = None
    if not errors:  # the walk needs built specs and checked forms
        read = dry_run.read_names([content for name, content in files.items() if name.endswith((".bpmn", ".dmn"))])
        walked = dry_run.run_cached(bundle_hash(files), processes, parsed, _files_of(files, processes), read)
        errors.extend(walked["problems"])
        warnings.extend(walked["warnings"])
    return ValidationReport(valid=not errors, errors=errors, warnings=warnings, processes=processes, forms=parsed,
                            files=files, dry_run=walked)


def _files_of(files: dict[str, bytes], processes: list[ParsedProcess]) -> dict[str, str]:
    """The BPMN file of each process (where the dry run's findings are)."""
    found = references.provided({name: content for name, content in files.items() if name.endswith(".bpmn")})
    return {p.key: found.processes.get(p.key, "") for p in processes}


def _readable(name: str, content: bytes) -> tuple[bytes, ProblemLocation | None]:
    """BPMN and DMN in the encoding their XML declaration names (stored as UTF-8); forms in UTF-8 (JSON's)."""
    if name.endswith((".bpmn", ".dmn")):
        text, problem = as_utf8(content, name)
        return (text or b""), problem
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        return content, ProblemLocation(name, line, None, Bilingual(
            f"第 {line} 行不是 UTF-8 编码：JSON 表单文件须存为 UTF-8",
            f"line {line} is not UTF-8: a JSON form file must be saved as UTF-8"))
    return content, None


def _unknown_groups(files: dict[str, bytes]) -> list[ProblemLocation]:
    """Lanes and candidateGroups naming no group that exists: their tasks would wait for nobody."""
    known = directory.current().groups
    return [ProblemLocation(where.file, where.line, where.element_id,
                            f'group "{group}" does not exist: create it (用户与机构管理) and give it members, '
                            "or its tasks wait for nobody")
            for group, where in group_references(files) if group not in known]


def validate(principal: Principal, files: dict[str, bytes]) -> ValidationReport:
    principal.require_role("designer")
    return _check(files)


def deploy(principal: Principal, files: dict[str, bytes]) -> tuple[list[dict[str, Any]], bool]:
    """Deploy a new version of every process in `files` (a designer's act: the pages and the API).
    Returns (definitions, created); re-deploying the files of the latest versions creates nothing and
    returns those versions; the files of an older version deploy anew (a rollback)."""
    deployed, created, _report = deploy_checked(principal, files)
    return deployed, created


def deploy_checked(principal: Principal,
                   files: dict[str, bytes]) -> tuple[list[dict[str, Any]], bool, ValidationReport]:
    """deploy(), with the report it was deployed on (warnings, the dry run)."""
    principal.require_role("designer")
    report = checked(files)
    # the upload with what it took from the latest deployment (forms, tables, called processes)
    complete = report.files
    deployed, created = guarded_store(principal, complete, report, bundle_hash(complete), PAGES)
    return deployed, created, report


PAGES, REPOSITORY = "pages", "repository"  # where a deployment came from (Deployment.origin)


def checked(files: dict[str, bytes]) -> ValidationReport:
    """The validation report of files about to be deployed; ProcessInvalid when they have problems."""
    report = _check(files)
    if not report.valid:
        raise ProcessInvalid(report.errors)
    return report


def guarded_store(principal: Principal, files: dict[str, bytes], report: ValidationReport, content_hash: str,
                  origin: str) -> tuple[list[dict[str, Any]], bool]:
    try:
        return _store(principal, files, report, content_hash, origin)
    except IntegrityError as exc:  # (key, version) is unique: a concurrent deploy took the number
        raise Conflict("another deployment of the same process finished at the same moment; deploy again") from exc


def _store(principal: Principal, files: dict[str, bytes], report: ValidationReport,
           content_hash: str, origin: str) -> tuple[list[dict[str, Any]], bool]:
    with db.transaction() as session:
        existing = _latest_with_hash(session, content_hash) or _latest_holding(session, files, report)
        if existing:
            deployment_id, summaries, created = existing[0].deployment_id, [_summary(d, True) for d in existing], False
        else:
            deployment_id, inserted = _insert(session, principal, files, report, content_hash, origin)
            summaries, created = [_summary(d, latest=True) for d in inserted], True
    definitions.remember_forms(deployment_id, report.forms)
    return summaries, created


def _latest_holding(session: Session, files: dict[str, bytes], report: ValidationReport) -> list[ProcessDefinition]:
    """The latest versions of the processes in `files`, when one deployment holds them and every one of
    `files`, byte for byte: one unchanged file of a larger deployment (completed from it) is not new."""
    keys = [process.key for process in report.processes]
    if not keys:
        return []
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .where(ProcessDefinition.key.in_(keys)).group_by(ProcessDefinition.key).subquery())
    latest = session.scalars(select(ProcessDefinition).join(
        newest, (newest.c.key == ProcessDefinition.key) & (newest.c.version == ProcessDefinition.version))
        .order_by(ProcessDefinition.id)).all()
    if len(latest) != len(set(keys)) or len({row.deployment_id for row in latest}) != 1:
        return []
    sources = session.scalar(select(Deployment.sources).where(Deployment.id == latest[0].deployment_id)) or {}
    if all(name in sources and sources[name].encode("utf-8") == content for name, content in files.items()):
        return list(latest)
    return []


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
            content_hash: str, origin: str) -> tuple[int, list[ProcessDefinition]]:
    now = clock.now()
    deployment = Deployment(content_hash=content_hash, deployed_by=principal.username, deployed_at=now, origin=origin,
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
                 detail={"files": sorted(files), "processes": [f"{d.key}:{d.version}" for d in created],
                         "origin": origin})
    return deployment.id, created


def bundle_hash(files: dict[str, bytes]) -> str:
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
