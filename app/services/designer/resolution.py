"""Files an upload refers to but does not hold, taken from the latest deployed versions, so that one
edited diagram validates and deploys alone.

Where a missing file is looked for, in order: the deployment of the latest version of each process the
upload defines, then (for a called process) the deployment of that process's latest version, then the
deployments of the latest versions of every other process, newest first. Each file taken is named in a
warning; the deployment stores the whole resolved bundle, so that it stands on its own."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.database import db
from app.engine import references
from app.errors import Bilingual, ProblemLocation
from app.models import Deployment, ProcessDefinition

MAX_ROUNDS = 10  # a resolved diagram may need files of its own (a called process's forms); never endless


@dataclass
class Resolved:
    files: dict[str, bytes]  # the upload and what was taken
    taken: dict[str, str] = field(default_factory=dict)  # file name -> "key vN" it was taken from
    warnings: list[ProblemLocation] = field(default_factory=list)

    @property
    def uploaded(self) -> set[str]:
        return set(self.files) - set(self.taken)


@dataclass(frozen=True)
class _Source:
    label: str  # "dispute_case v3"
    keys: frozenset[str]
    sources: dict[str, str]


def _latest_deployments(session: Session) -> list[_Source]:
    """The deployment of the latest version of every process key, newest first."""
    latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(
        select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.deployment_id)
        .join(latest, (latest.c.key == ProcessDefinition.key) & (latest.c.version == ProcessDefinition.version))
        .order_by(ProcessDefinition.deployment_id.desc(), ProcessDefinition.key)).all()
    by_deployment: dict[int, list[tuple[str, int]]] = {}
    for key, version, deployment_id in rows:
        by_deployment.setdefault(deployment_id, []).append((key, version))
    if not by_deployment:
        return []
    sources: dict[int, dict[str, str]] = {row.id: row.sources for row in session.execute(
        select(Deployment.id, Deployment.sources).where(Deployment.id.in_(by_deployment)))}
    return [_Source(", ".join(f"{k} v{v}" for k, v in versions), frozenset(k for k, _ in versions),
                    dict(sources.get(deployment_id) or {}))
            for deployment_id, versions in by_deployment.items()]


def _ordered(candidates: list[_Source], first_keys: set[str]) -> list[_Source]:
    return sorted(candidates, key=lambda source: not (source.keys & first_keys))  # stable: newest first


def _take(candidates: list[_Source], want: references.Needs, upload_keys: set[str],
          files: dict[str, bytes], taken: dict[str, str]) -> bool:
    """Add to `files` what `want` names and some candidate holds; True when anything was added."""
    added = False

    def add(name: str, source: _Source) -> None:
        nonlocal added
        if name not in files:
            files[name] = source.sources[name].encode("utf-8")
            taken[name] = source.label
            added = True

    for source in _ordered(candidates, upload_keys):
        for name in sorted(want.forms | want.optional):
            if name in source.sources and name not in files:
                add(name, source)
        for name in sorted(n for n in source.sources if n.endswith(".dmn")):
            if want.decisions & set(references.provided({name: source.sources[name].encode()}).decisions):
                add(name, source)
    for process in sorted(want.processes):
        for source in _ordered(candidates, {process}):
            holder = [n for n in sorted(source.sources) if n.endswith(".bpmn")
                      and process in references.provided({n: source.sources[n].encode()}).processes]
            if holder:
                add(holder[0], source)
                break
    return added


def resolve(files: dict[str, bytes]) -> Resolved:
    """`files` completed with what their executable processes need from the latest deployments."""
    resolved = Resolved(dict(files))
    want = references.missing(resolved.files)
    if not (want.forms or want.decisions or want.processes or want.optional):
        return resolved
    upload_keys = set(references.provided(files).processes)
    with db.transaction() as session:
        candidates = _latest_deployments(session)
    for _ in range(MAX_ROUNDS):
        if not _take(candidates, want, upload_keys, resolved.files, resolved.taken):
            break
        want = references.missing(resolved.files)
    resolved.warnings = [ProblemLocation(name, None, None, Bilingual(
        f"上传中没有此文件，已取自已部署的 {label}", f"not in the upload: taken from the deployed {label}"))
        for name, label in sorted(resolved.taken.items())]
    return resolved
