"""Deploying the repository's copy of the routes (`concord deploy processes forms`, as `make run` does).

The repository holds the files a version *started* from; a designer then deploys newer versions from the
pages. A repository deploy must never put an older copy back over those behind the designer's back:

- files identical to a version deployed before (the same bundle) deploy nothing, and say which version
  they are and which one stays the latest;
- when the latest version of one of their processes was deployed from the pages, they deploy nothing
  either, whatever their age: a file's time says nothing about whether it holds the designer's changes
  (a fresh clone is newer than every deployment). They say how to get the designer's files into the
  repository (download them, commit them: then they are identical) or to deploy anyway (`force`).

Forced, the files deploy as a new version as the pages would (a rollback, when they are an older version's)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.database import db
from app.errors import Bilingual
from app.models import Deployment, ProcessDefinition
from app.services.designer import deployments
from app.services.kernel import present
from app.services.kernel.principals import Principal


@dataclass
class RepositoryDeploy:
    definitions: list[dict[str, Any]]  # the versions created, or those the files already are
    created: bool
    notes: list[Bilingual] = field(default_factory=list)  # why nothing was deployed


def deploy(principal: Principal, files: dict[str, bytes], *, force: bool = False) -> RepositoryDeploy:
    """Deploy the repository's files (processes/ and forms/)."""
    principal.require_role("designer", "admin")
    report = deployments.checked(files)
    content_hash = deployments.bundle_hash(files)
    keys = [process.key for process in report.processes]
    if not force:
        with db.transaction() as session:
            latest = _latest(session, keys)
            same = _identical(session, content_hash)
            if same and any(latest[row.key].version != row.version for row in same):
                return RepositoryDeploy([_brief(row, latest[row.key]) for row in same], False,
                                        [_identical_note(row, latest[row.key]) for row in same])
            newer = [row for row in latest.values() if row.origin == deployments.PAGES and not same]
            if newer:
                return RepositoryDeploy([_brief(row, row) for row in newer], False,
                                        [_newer_note(row) for row in newer])
    definitions, created = deployments.guarded_store(principal, files, report, content_hash, deployments.REPOSITORY)
    return RepositoryDeploy(definitions, created)


def _latest(session: Session, keys: list[str]) -> dict[str, Any]:
    """The latest version of each process, with its deployment's origin."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .where(ProcessDefinition.key.in_(keys)).group_by(ProcessDefinition.key).subquery())
    rows = session.execute(
        select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.deployed_by,
               ProcessDefinition.deployed_at, Deployment.origin)
        .join(Deployment, Deployment.id == ProcessDefinition.deployment_id)
        .join(newest, (newest.c.key == ProcessDefinition.key) & (newest.c.version == ProcessDefinition.version)))
    return {row.key: row for row in rows}


def _identical(session: Session, content_hash: str) -> list[Any]:
    """The versions these very files were last deployed as, one per process."""
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.version)
                           .where(ProcessDefinition.content_hash == content_hash)
                           .order_by(ProcessDefinition.version)).all()
    return list({row.key: row for row in rows}.values())


def _brief(row: Any, latest: Any) -> dict[str, Any]:
    return {"key": row.key, "version": row.version, "is_latest": row.version == latest.version}


def _when(at: datetime) -> str:
    return present.local(at).strftime("%Y-%m-%d %H:%M")


def _identical_note(row: Any, latest: Any) -> Bilingual:
    return Bilingual(
        f"未部署：这些文件与已部署的 {row.key} v{row.version} 相同；最新版本 v{latest.version}"
        f"（{latest.deployed_by} 于 {_when(latest.deployed_at)} 部署）保持为最新。如确需回退到 v{row.version}，"
        "请加 --force。",
        f"not deployed: these files are {row.key} v{row.version}, deployed before; the latest version, "
        f"v{latest.version} (deployed by {latest.deployed_by} at {_when(latest.deployed_at)}), stays the latest. "
        f"To roll back to v{row.version}, pass --force.")


def _newer_note(row: Any) -> Bilingual:
    download = f"/api/v1/process-definitions/{row.key}/files.zip"
    return Bilingual(
        f"未部署：最新版本 {row.key} v{row.version} 由 {row.deployed_by} 于 {_when(row.deployed_at)} 在页面上部署，"
        "仓库中的文件与它不同，部署它们会覆盖设计人员的版本。"
        f"请先在流程设计页面下载最新部署的文件（{download}）并提交到仓库；确要覆盖，请加 --force。",
        f"not deployed: the latest version, {row.key} v{row.version}, was deployed from the pages by "
        f"{row.deployed_by} at {_when(row.deployed_at)}, and the repository's files differ from it: deploying "
        "them would replace the designer's version. Download the latest deployed files (designer page, or "
        f"{download}) and commit them to the repository; to replace it anyway, pass --force.")
