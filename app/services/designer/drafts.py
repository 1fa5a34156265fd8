"""Drafts: a designer's work in progress in the browser workbench.

A draft is a set of files (diagrams, decision tables, forms) kept on the server per designer, so that work
survives a closed tab and can be resumed elsewhere. It is started from a deployed version (all of that
deployment's files) or from a template for a new case type; it is listed, edited file by file, validated,
deployed (which deletes it: the deployment is now the record) or discarded. Only its owner sees it, and
nothing runs from a draft: officers never see one. Every save carries the revision the editor loaded, so a
second tab's stale save is a conflict (409) instead of a silent overwrite."""
from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.engine import sandbox
from app.errors import Bilingual, Conflict, NotFound, ValidationFailed
from app.forms import check_schema_file
from app.models import Deployment, DesignerDraft, ProcessDefinition
from app.services.designer import deployments, templates
from app.services.designer.deployments import ALLOWED_SUFFIXES, MAX_NAME
from app.services.kernel import audit, present
from app.services.kernel.principals import Principal

MAX_FILES = 200
MAX_FILE_BYTES = 2_000_000  # a large route is ~150 KB; this only stops a runaway upload
KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _summary(draft: DesignerDraft, with_files: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"id": draft.id, "title": draft.title, "based_on": draft.based_on,
                            "revision": draft.revision, "created_at": present.iso(draft.created_at),
                            "updated_at": present.iso(draft.updated_at), "file_names": sorted(draft.files)}
    if with_files:
        item["files"] = dict(sorted(draft.files.items()))
    return item


def _own(session: Session, principal: Principal, draft_id: int, *, lock: bool = False) -> DesignerDraft:
    statement = select(DesignerDraft).where(DesignerDraft.id == draft_id)
    draft = session.scalar(statement.with_for_update() if lock else statement)
    # Another designer's draft is as unknown as a missing one: drafts are private work.
    if draft is None or draft.owner != principal.username:
        raise NotFound(Bilingual(f"草稿 {draft_id} 不存在", f"draft {draft_id} does not exist"))
    return draft


def list_drafts(principal: Principal) -> list[dict[str, Any]]:
    principal.require_role("designer")
    with db.transaction() as session:
        rows = session.scalars(select(DesignerDraft).where(DesignerDraft.owner == principal.username)
                               .order_by(DesignerDraft.updated_at.desc(), DesignerDraft.id.desc())).all()
        return [_summary(row) for row in rows]


def get_draft(principal: Principal, draft_id: int) -> dict[str, Any]:
    principal.require_role("designer")
    with db.transaction() as session:
        return _summary(_own(session, principal, draft_id), with_files=True)


def _deployed_files(session: Session, key: str, version: int | None) -> tuple[str, dict[str, str], str]:
    statement = select(ProcessDefinition).where(ProcessDefinition.key == key)
    statement = statement.where(ProcessDefinition.version == version) if version else \
        statement.order_by(ProcessDefinition.version.desc()).limit(1)
    definition = session.scalar(statement)
    if definition is None:
        raise NotFound(Bilingual(f"流程 {key}" + (f" 第 {version} 版" if version else "") + " 未部署",
                                 f"process {key}" + (f" version {version}" if version else "") + " is not deployed"))
    sources = session.scalar(select(Deployment.sources).where(Deployment.id == definition.deployment_id))
    return f"{definition.key}:{definition.version}", dict(sources or {}), f"{definition.name} v{definition.version}"


def create_draft(principal: Principal, *, title: str | None = None, process_key: str | None = None,
                 version: int | None = None, new_key: str | None = None,
                 new_name: str | None = None, files: dict[str, bytes] | None = None) -> dict[str, Any]:
    """From a deployed version (`process_key`, optional `version`: the latest by default), a new case
    type's template (`new_key`, `new_name`), or uploaded `files` (UTF-8 text)."""
    principal.require_role("designer")
    if files is not None:
        return _store_new(principal, title or "、".join(sorted(files))[:200], None, _texts(files))
    if (process_key is None) == (new_key is None):
        raise ValidationFailed.of_field("process_key", "请选择一个已部署的流程，或为新流程填写标识",
                                        "name a deployed process to start from, or a key for a new process")
    if new_key is not None and not KEY.match(new_key):
        raise ValidationFailed.of_field("new_key",
                                        "流程标识须以小写字母开头，只含小写字母、数字和下划线（2–40 个字符）",
                                        "a process key starts with a lower-case letter and has 2-40 lower-case "
                                        "letters, digits or underscores")
    if new_key is not None:
        return _store_new(principal, (title or new_name or new_key)[:200], None,
                          templates.new_case_type(new_key, new_name or new_key))
    assert process_key is not None
    with db.transaction() as session:
        based_on, sources, default_title = _deployed_files(session, process_key, version)
    return _store_new(principal, (title or default_title)[:200], based_on, sources)


def _texts(files: dict[str, bytes]) -> dict[str, str]:
    if len(files) > MAX_FILES:
        raise ValidationFailed.of_field("files", f"一个草稿最多 {MAX_FILES} 个文件",
                                        f"a draft holds at most {MAX_FILES} files")
    texts = {}
    for name, content in files.items():
        _check_name(name)
        try:
            texts[name] = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed.of_field("files", f"{name} 不是 UTF-8 文本", f"{name} is not UTF-8 text") from exc
    return texts


def _store_new(principal: Principal, title: str, based_on: str | None, files: dict[str, str]) -> dict[str, Any]:
    now = clock.now()
    with db.transaction() as session:
        draft = DesignerDraft(owner=principal.username, title=title, based_on=based_on,
                              files=files, revision=1, created_at=now, updated_at=now)
        session.add(draft)
        session.flush()
        audit.record(session, actor=principal.username, action="draft.created",
                     detail={"draft": draft.id, "based_on": based_on, "files": sorted(files)})
        return _summary(draft, with_files=True)


def _check_name(name: str) -> None:
    if not (0 < len(name) <= MAX_NAME) or any(ch in "/\\" or ord(ch) < 32 for ch in name) \
            or not name.endswith(ALLOWED_SUFFIXES):
        raise ValidationFailed.of_field("name", "文件名须以 .bpmn、.dmn 或 .json 结尾，且不含斜杠或控制字符",
                                        "a file name ends in .bpmn, .dmn or .json and has no slashes or control "
                                        "characters")


def _changed(session: Session, principal: Principal, draft_id: int, revision: int | None) -> DesignerDraft:
    draft = _own(session, principal, draft_id, lock=True)
    if revision is not None and revision != draft.revision:
        raise Conflict(Bilingual(f"草稿已在别处修改（当前第 {draft.revision} 版，您编辑的是第 {revision} 版）："
                                 "请重新打开后再保存",
                                 f"the draft changed elsewhere (now revision {draft.revision}, you edited "
                                 f"revision {revision}): reopen it before saving"))
    return draft


def put_file(principal: Principal, draft_id: int, name: str, text: str, revision: int | None) -> dict[str, Any]:
    principal.require_role("designer")
    _check_name(name)
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise ValidationFailed.of_field("text", f"文件超过 {MAX_FILE_BYTES // 1_000_000} MB",
                                        f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    with db.transaction() as session:
        draft = _changed(session, principal, draft_id, revision)
        if name not in draft.files and len(draft.files) >= MAX_FILES:
            raise ValidationFailed.of_field("name", f"一个草稿最多 {MAX_FILES} 个文件",
                                            f"a draft holds at most {MAX_FILES} files")
        created = name not in draft.files
        draft.files = {**draft.files, name: text}  # a new dict: the JSON column sees the change
        _touch(draft)
        audit.record(session, actor=principal.username, action="draft.file_saved",
                     detail={"draft": draft.id, "file": name, "created": created, "revision": draft.revision})
        return _summary(draft)


def delete_file(principal: Principal, draft_id: int, name: str, revision: int | None) -> dict[str, Any]:
    principal.require_role("designer")
    with db.transaction() as session:
        draft = _changed(session, principal, draft_id, revision)
        if name not in draft.files:
            raise NotFound(Bilingual(f"草稿中没有文件 {name}", f"the draft has no file {name}"))
        draft.files = {key: value for key, value in draft.files.items() if key != name}
        _touch(draft)
        audit.record(session, actor=principal.username, action="draft.file_deleted",
                     detail={"draft": draft.id, "file": name, "revision": draft.revision})
        return _summary(draft)


def _touch(draft: DesignerDraft) -> None:
    draft.revision += 1
    draft.updated_at = clock.now()


def discard(principal: Principal, draft_id: int) -> None:
    principal.require_role("designer")
    with db.transaction() as session:
        draft = _own(session, principal, draft_id, lock=True)
        audit.record(session, actor=principal.username, action="draft.discarded",
                     detail={"draft": draft.id, "title": draft.title, "files": sorted(draft.files)})
        session.delete(draft)


def _files_of(principal: Principal, draft_id: int) -> dict[str, bytes]:
    with db.transaction() as session:
        draft = _own(session, principal, draft_id)
        return {name: text.encode("utf-8") for name, text in draft.files.items()}


def validate(principal: Principal, draft_id: int) -> deployments.ValidationReport:
    principal.require_role("designer")
    return deployments.validate(principal, _files_of(principal, draft_id))


def deploy(principal: Principal, draft_id: int, revision: int | None) -> tuple[list[dict[str, Any]], bool]:
    """Deploy the draft's files as they are at `revision`; the draft is deleted once the deployment stands."""
    principal.require_role("designer")
    with db.transaction() as session:
        draft = _changed(session, principal, draft_id, revision)
        files = {name: text.encode("utf-8") for name, text in draft.files.items()}
    summaries, created = deployments.deploy(principal, files)
    with db.transaction() as session:
        # The deployment is its own transaction (deployments.deploy); should this one fail, the draft stays
        # and deploying it again finds its files deployed already (200, nothing new).
        deployed = session.get(DesignerDraft, draft_id)
        if deployed is not None and deployed.owner == principal.username:
            audit.record(session, actor=principal.username, action="draft.deployed",
                         detail={"draft": draft_id, "processes": [f"{s['key']}:{s['version']}" for s in summaries]})
            session.delete(deployed)
    return summaries, created


def check_text(principal: Principal, text: str, kind: str) -> dict[str, Any]:
    """The workbench's syntax check of a script or a condition, by the parser and sandbox rules the engine
    uses (app.engine.sandbox), so that what passes here is what the deployment accepts."""
    principal.require_role("designer")
    if kind not in ("script", "expression"):
        raise ValidationFailed.of_field("kind", "kind 须为 script 或 expression", "kind is script or expression")
    if not text.strip():
        return {"ok": True, "message": None}
    refused = sandbox.refusal(text, "exec" if kind == "script" else "eval")
    return {"ok": refused is None, "message": refused}


def form_problems(principal: Principal, schema: Any, ui: Any) -> list[str]:
    """Why a form being edited cannot be drawn yet (not an object, not a JSON Schema), for the live preview."""
    principal.require_role("designer")
    problems: list[str] = []
    if not isinstance(schema, dict):
        return ["the form must be a JSON object"]
    _, located = check_schema_file("preview.schema.json", json.dumps(schema).encode("utf-8"))
    problems.extend(p.message for p in located)
    if not isinstance(ui, dict):
        problems.append("the UI schema must be a JSON object")
    return problems
