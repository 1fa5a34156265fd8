"""The centres (三级综治中心, city → county → township) and the groups that belong to them."""
from __future__ import annotations

import re
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import Bilingual, Conflict, NotFound, ValidationFailed
from app.models import Centre, Group, TaskRow, User
from app.services.kernel import audit, directory, revocation
from app.services.kernel.principals import Principal
from app.states import TaskState

KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class CentreItem(TypedDict):
    key: str
    name: str
    parent: str | None


class GroupItem(TypedDict):
    key: str
    name: str
    name_en: str | None
    kind: str
    centre: str


def _key(value: Any) -> str:
    if not isinstance(value, str) or not KEY.match(value):
        raise ValidationFailed.of_field("key", "须为小写字母开头的 2–40 位小写字母、数字或下划线",
                       "2–40 lowercase letters, digits or _, starting with a letter")
    return value


def _name(value: Any, field: str = "name", required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise ValidationFailed.of_field(field, "请填写名称（最多 100 字）",
                                        "a name of at most 100 characters is required")
    return value.strip()


def _centre(session: Session, key: Any, field: str) -> Centre:
    centre = session.scalar(select(Centre).where(Centre.key == key)) if isinstance(key, str) else None
    if centre is None:
        raise ValidationFailed.of_field(field, f"中心 {key} 不存在", f"no centre {key}")
    return centre


# Centres ---------------------------------------------------------------------------------------------

def list_centres(principal: Principal) -> list[CentreItem]:
    principal.require_role("admin", "supervisor")
    tree = directory.current()
    return [{"key": c.key, "name": c.name, "parent": c.parent} for c in sorted(tree.centres.values(),
                                                                               key=lambda c: c.key)]


def create_centre(principal: Principal, body: dict[str, Any]) -> CentreItem:
    principal.require_role("admin")
    key, name = _key(body.get("key")), _name(body.get("name"))
    assert name is not None
    with db.transaction() as session:
        parent = _centre(session, body["parent"], "parent") if body.get("parent") is not None else None
        if session.scalar(select(Centre.id).where(Centre.key == key)) is not None:
            raise Conflict(f"centre {key} exists already")
        session.add(Centre(key=key, name=name, parent_id=parent.id if parent else None, created_at=clock.now()))
        audit.record(session, actor=principal.username, action="centre.created",
                     detail={"key": key, "name": name, "parent": parent.key if parent else None})
    directory.forget()  # this node reads the new tree at once; others within CONCORD_DIRECTORY_CACHE_SECONDS
    return {"key": key, "name": name, "parent": parent.key if parent else None}


def update_centre(principal: Principal, key: str, body: dict[str, Any]) -> CentreItem:
    principal.require_role("admin")
    with db.transaction() as session:
        centre = session.scalar(select(Centre).where(Centre.key == key))
        if centre is None:
            raise NotFound(f"centre {key} does not exist")
        if "name" in body:
            centre.name = _name(body["name"]) or centre.name
        parent_key = None
        if "parent" in body:
            if body["parent"] is None:
                centre.parent_id = None
            else:
                parent = _centre(session, body["parent"], "parent")
                if parent.key in directory.current(session).below(key):
                    raise ValidationFailed.of_field("parent", "不能移到自己的下级中心之下",
                                                    "a centre cannot move under itself")
                centre.parent_id, parent_key = parent.id, parent.key
        audit.record(session, actor=principal.username, action="centre.updated", detail={"key": key, **body})
        if "parent" not in body and centre.parent_id is not None:
            parent_key = session.scalar(select(Centre.key).where(Centre.id == centre.parent_id))
        result: CentreItem = {"key": centre.key, "name": centre.name, "parent": parent_key}
    directory.forget()
    return result


# Groups ----------------------------------------------------------------------------------------------

def _group_item(group: Group, centre_key: str) -> GroupItem:
    return {"key": group.key, "name": group.name, "name_en": group.name_en, "kind": group.kind,
            "centre": centre_key}


def list_groups(principal: Principal) -> list[GroupItem]:
    principal.require_role("admin", "supervisor", "designer")
    tree = directory.current()
    return [{"key": g.key, "name": g.name, "name_en": g.name_en, "kind": g.kind, "centre": g.centre}
            for g in sorted(tree.groups.values(), key=lambda g: g.key)]


def _kind(value: Any) -> str:
    if value not in directory.GROUP_KINDS:
        raise ValidationFailed.of_field("kind", f"类别须为：{', '.join(directory.GROUP_KINDS)}",
                       f"kind must be one of {', '.join(directory.GROUP_KINDS)}")
    return str(value)


def _default_centre(session: Session) -> Centre:
    """A group created without a centre goes to the root of the tree (the only one, or 409)."""
    roots = session.scalars(select(Centre).where(Centre.parent_id.is_(None)).order_by(Centre.id)).all()
    if len(roots) != 1:
        raise ValidationFailed.of_field("centre", "请指定所属中心", "name the centre the group belongs to")
    return roots[0]


def create_group(principal: Principal, body: dict[str, Any], *, actor: str | None = None) -> GroupItem:
    """POST /groups: 409 when the key exists, 422 for a malformed key, kind or centre."""
    principal.require_role("admin")
    key, name = _key(body.get("key")), _name(body.get("name"))
    name_en = _name(body.get("name_en"), "name_en", required=False)
    kind = _kind(body.get("kind"))
    assert name is not None
    with db.transaction() as session:
        # Absent, null or empty (a form's unchosen field): the root; anything else must name a centre.
        centre = (_default_centre(session) if body.get("centre") in (None, "")
                  else _centre(session, body["centre"], "centre"))
        if session.scalar(select(Group.id).where(Group.key == key)) is not None:
            raise Conflict(f"group {key} exists already")
        group = Group(key=key, name=name, name_en=name_en, kind=kind, centre_id=centre.id, created_at=clock.now())
        session.add(group)
        audit.record(session, actor=actor or principal.username, action="group.created",
                     detail={"key": key, "name": name, "kind": kind, "centre": centre.key})
        created = _group_item(group, centre.key)
    directory.forget()
    return created


def update_group(principal: Principal, key: str, body: dict[str, Any]) -> GroupItem:
    principal.require_role("admin")
    unknown = sorted(set(body) - {"name", "name_en", "kind", "centre"})
    if unknown:
        raise ValidationFailed.of_field(unknown[0], "不能修改此项", f"{unknown[0]} cannot be changed")
    with db.transaction() as session:
        group = session.scalar(select(Group).where(Group.key == key))
        if group is None:
            raise NotFound(f"group {key} does not exist")
        if "name" in body:
            group.name = _name(body["name"]) or group.name
        if "name_en" in body:
            group.name_en = _name(body["name_en"], "name_en", required=False)
        if "kind" in body:
            group.kind = _kind(body["kind"])
        centre = _centre(session, body["centre"], "centre") if "centre" in body else None
        if centre is not None:
            group.centre_id = centre.id
        centre_key = centre.key if centre else session.scalar(select(Centre.key).where(Centre.id == group.centre_id))
        audit.record(session, actor=principal.username, action="group.updated", detail={"key": key, **body})
        updated = _group_item(group, str(centre_key))
    directory.forget()
    return updated


def delete_group(principal: Principal, key: str) -> None:
    """A group that still has open tasks stays (409 naming how many); its members leave it."""
    principal.require_role("admin")
    with db.transaction() as session:
        group = session.scalar(select(Group).where(Group.key == key))
        if group is None:
            raise NotFound(f"group {key} does not exist")
        open_tasks = session.scalar(select(func.count()).select_from(TaskRow).where(
            TaskRow.group_name == key, TaskRow.state == TaskState.OPEN)) or 0
        if open_tasks:
            raise Conflict(Bilingual(f"组 {key} 仍有 {open_tasks} 个未办结任务，不能删除",
                                     f"group {key} still has {open_tasks} open tasks"))
        members = [u for u in session.scalars(select(User)) if key in u.groups]
        for user in members:
            user.groups = [g for g in user.groups if g != key]
        if members:
            revocation.bump(session)  # the members' checked logins stand for the group no longer
        session.delete(group)
        audit.record(session, actor=principal.username, action="group.deleted",
                     detail={"key": key, "members": [u.username for u in members]})
    directory.forget()


def seed(centres: tuple[tuple[str, str, str | None], ...], groups: tuple[tuple[str, str, str, str, str], ...], *,
         actor: str) -> None:
    """Create or restore these centres (key, name, parent) and groups (key, name, English name, kind,
    centre) in one transaction (the demo seed; parents listed before their children)."""
    now = clock.now()
    with db.transaction() as session:
        by_key = {c.key: c for c in session.scalars(select(Centre))}
        for key, name, parent in centres:
            centre = by_key.get(key) or Centre(key=key, created_at=now)
            centre.name, centre.parent_id = name, by_key[parent].id if parent else None
            session.add(centre)
            session.flush()
            by_key[key] = centre
        known = {g.key: g for g in session.scalars(select(Group))}
        for key, name, name_en, kind, centre_key in groups:
            group = known.get(key) or Group(key=key, created_at=now)
            group.name, group.name_en, group.kind, group.centre_id = name, name_en, kind, by_key[centre_key].id
            session.add(group)
        audit.record(session, actor=actor, action="directory.seeded",
                     detail={"centres": [c[0] for c in centres], "groups": [g[0] for g in groups]})
    directory.forget()
