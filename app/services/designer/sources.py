"""The files a version was deployed from, for designers to download and start the next version from.

A version's BPMN, DMN and form files are stored with its deployment exactly as uploaded (as UTF-8
text); the whole deployment comes back as one zip archive, each file alone in its own type.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.database import db
from app.errors import NotFound
from app.models import Deployment, ProcessDefinition
from app.services.kernel import directory, present
from app.services.kernel.principals import Principal

_MEDIA_TYPES = {".bpmn": "application/xml", ".dmn": "application/xml", ".json": "application/json"}


@dataclass(frozen=True)
class SourceFile:
    name: str
    content: bytes
    media_type: str


@dataclass(frozen=True)
class _Deployed:
    sources: dict[str, str]
    deployed_at: datetime


def _deployed(principal: Principal, key: str, version: int) -> _Deployed:
    principal.require_role("designer", "supervisor")
    with db.transaction() as session:
        row = session.execute(
            select(Deployment.sources, Deployment.deployed_at)
            .join(ProcessDefinition, ProcessDefinition.deployment_id == Deployment.id)
            .where(ProcessDefinition.key == key, ProcessDefinition.version == version)).one_or_none()
    if row is None:
        raise NotFound(f"process {key!r} version {version} does not exist")
    return _Deployed(dict(row.sources or {}), row.deployed_at)


def _media_type(name: str) -> str:
    return next((media for suffix, media in _MEDIA_TYPES.items() if name.endswith(suffix)),
                "application/octet-stream")


def list_files(principal: Principal, key: str, version: int) -> list[dict[str, object]]:
    """Name, size in bytes and media type of every file deployed with the version, by name."""
    sources = _deployed(principal, key, version).sources
    return [{"name": name, "size": len(sources[name].encode("utf-8")), "media_type": _media_type(name)}
            for name in sorted(sources)]


def source_file(principal: Principal, key: str, version: int, name: str) -> SourceFile:
    sources = _deployed(principal, key, version).sources
    if name not in sources:
        raise NotFound(f"{name!r} is not a file of process {key!r} version {version}")
    return SourceFile(name, sources[name].encode("utf-8"), _media_type(name))


def latest_archive(principal: Principal, key: str) -> SourceFile:
    """The files of the latest deployed version of `key` in one zip: what a designer commits to the
    repository after deploying from the pages (so that the repository's copy is that version again)."""
    principal.require_role("designer", "supervisor")
    with db.transaction() as session:
        version = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key))
    if version is None:
        raise NotFound(f"process {key!r} has not been deployed")
    return archive(principal, key, version)


def archive(principal: Principal, key: str, version: int) -> SourceFile:
    """Every file of the deployment in one zip, stamped with the deployment time in the centre's zone
    (zip times have no zone), so that downloading the same version twice gives the same bytes."""
    deployed = _deployed(principal, key, version)
    stamp = present.local(deployed.deployed_at).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(deployed.sources):
            entry = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.flag_bits |= 0x800  # names in UTF-8 (a designer may name a form in Chinese)
            bundle.writestr(entry, deployed.sources[name].encode("utf-8"))
    return SourceFile(f"{key}-v{version}.zip", buffer.getvalue(), "application/zip")


def group_choices(english: bool = False) -> list[dict[str, str]]:
    """The groups a diagram may name (lanes, candidateGroups), for the workbench's choosers."""
    groups = directory.current().groups
    return [{"key": key, "name": groups[key].name_en or groups[key].name if english else groups[key].name}
            for key in sorted(groups)]
