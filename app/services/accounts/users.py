"""Staff accounts, administered by the centre: create, edit roles and groups, deactivate, reset passwords.

Every change is one transaction with its audit record, naming who made it."""
from __future__ import annotations

import re
from typing import Any, TypedDict

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Group, LoginSession, TaskRow, User
from app.services.accounts.auth import check_new_password, hash_password
from app.services.kernel import audit, revocation
from app.services.kernel.paging import Page, paginate
from app.services.kernel.principals import ROLES, Principal
from app.states import TaskState

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")


class UserItem(TypedDict):
    username: str
    display_name: str
    roles: list[str]
    groups: list[str]
    active: bool
    must_change_password: bool


def item(user: User) -> UserItem:
    return {"username": user.username, "display_name": user.display_name, "roles": sorted(user.roles),
            "groups": sorted(user.groups), "active": user.active, "must_change_password": user.must_change_password}


def _display_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 128:
        raise ValidationFailed.of_field("display_name", "请填写姓名（最多 128 字）",
                                        "a name of at most 128 characters is required")
    return value.strip()


def _roles(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ValidationFailed.of_field("roles", "须为角色列表", "must be a list of roles")
    unknown = sorted(set(value) - set(ROLES))
    if unknown:
        raise ValidationFailed.of_field("roles", f"未知角色：{', '.join(unknown)}",
                                        f"unknown roles: {', '.join(unknown)}")
    return sorted(set(value))


def _groups(session: Session, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise ValidationFailed.of_field("groups", "须为组列表", "must be a list of groups")
    known = set(session.scalars(select(Group.key).where(Group.key.in_(value))))
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValidationFailed.of_field("groups", f"未知的组：{', '.join(unknown)}",
                                        f"unknown groups: {', '.join(unknown)}")
    return sorted(set(value))


def list_users(principal: Principal, *, q: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    principal.require_role("admin")
    query = select(User)
    if q and q.strip():
        words = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{words}%"
        query = query.where(or_(User.username.ilike(pattern, escape="\\"),
                                User.display_name.ilike(pattern, escape="\\")))
    with db.transaction() as session:
        return paginate(session, query.order_by(User.username), page, per_page, item)


def get_user(principal: Principal, username: str) -> UserItem:
    principal.require_role("admin")
    with db.transaction() as session:
        return item(_user(session, username))


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username} does not exist")
    return user


def create_user(principal: Principal, body: dict[str, Any], *, actor: str | None = None,
                must_change_password: bool = False) -> UserItem:
    """POST /users: 409 for a username taken, 422 for unknown roles or groups and weak passwords."""
    principal.require_role("admin")
    username = body.get("username")
    if not isinstance(username, str) or not USERNAME.match(username):
        raise ValidationFailed.of_field("username", "用户名须为 2–64 个字母、数字或 _ . -",
                                        "2–64 letters, digits or _ . -")
    display_name = _display_name(body.get("display_name"))
    roles = _roles(body.get("roles", []))
    password = check_new_password(username, body.get("password"))
    with db.transaction() as session:
        groups = _groups(session, body.get("groups", []))
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"user {username} exists already")
        user = User(username=username, display_name=display_name, roles=roles, groups=groups, active=True,
                    password_hash=hash_password(password), must_change_password=must_change_password,
                    created_at=clock.now())
        session.add(user)
        audit.record(session, actor=actor or principal.username, action="user.created",
                     detail={"username": username, "roles": roles, "groups": groups})
        return item(user)


def update_user(principal: Principal, username: str, body: dict[str, Any]) -> UserItem:
    """PATCH /users/{username}: name, roles, groups, active. Deactivating ends the user's logins at once
    and hands their claimed open tasks back to the groups; the last active administrator stays (409)."""
    principal.require_role("admin")
    unknown = sorted(set(body) - {"display_name", "roles", "groups", "active"})
    if unknown:
        raise ValidationFailed.of_field(unknown[0], "不能修改此项", f"{unknown[0]} cannot be changed here")
    with db.transaction() as session:
        user = _user(session, username)
        changes: dict[str, Any] = {}
        if "display_name" in body:
            changes["display_name"] = _display_name(body["display_name"])
        if "roles" in body:
            changes["roles"] = _roles(body["roles"])
        if "groups" in body:
            changes["groups"] = _groups(session, body["groups"])
        if "active" in body:
            if not isinstance(body["active"], bool):
                raise ValidationFailed.of_field("active", "须为 true 或 false", "must be true or false")
            changes["active"] = body["active"]
        still_admin = "admin" in changes.get("roles", user.roles) and changes.get("active", user.active)
        if "admin" in user.roles and user.active and not still_admin and _other_active_admins(session, username) == 0:
            raise Conflict("the last active administrator cannot be deactivated or lose the admin role")
        before = item(user)
        for name, value in changes.items():
            setattr(user, name, value)
        # Roles, groups, the active flag: what a checked login stands for changed (before the audit heads).
        revocation.bump(session)
        released: list[str] = []
        if before["active"] and not user.active:
            released = _end_access(session, principal, username)
        audit.record(session, actor=principal.username, action="user.updated",
                     detail={"username": username, "before": {k: before[k] for k in changes},  # type: ignore[literal-required]
                             "after": changes, "tasks_released": released})
        return item(user)


def _other_active_admins(session: Session, username: str) -> int:
    admins = session.scalars(select(User.roles).where(User.active.is_(True), User.username != username)).all()
    return sum(1 for roles in admins if "admin" in roles)


def _end_access(session: Session, principal: Principal, username: str) -> list[str]:
    """A deactivated user's logins end now; the open tasks they held go back to their groups."""
    now = clock.now()
    session.execute(update(LoginSession).where(LoginSession.username == username, LoginSession.ended_at.is_(None))
                    .values(ended_at=now))
    held = session.execute(update(TaskRow).where(TaskRow.assignee == username, TaskRow.state == TaskState.OPEN)
                           .values(assignee=None)
                           .returning(TaskRow.id, TaskRow.case_id, TaskRow.instance_id, TaskRow.bpmn_id,
                                      TaskRow.title)).all()
    # The task rows first, the audit chains' heads last: the order every other writer takes them in.
    audit.record_many(session, [audit.entry(
        actor=principal.username, action="task.unclaimed", case_id=task.case_id, instance_id=task.instance_id,
        task_id=task.id, detail={"task": task.bpmn_id, "title": task.title, "assignee": None, "previous": username,
                                 "reason": "user deactivated"}) for task in held])
    return sorted(task.id for task in held)


def reset_password(principal: Principal, username: str, password: Any) -> UserItem:
    """An administrator sets a new password; the user must change it at their next login, and the
    logins they had end now."""
    principal.require_role("admin")
    new = check_new_password(username, password)
    with db.transaction() as session:
        user = _user(session, username)
        user.password_hash, user.must_change_password = hash_password(new), True
        session.execute(update(LoginSession).where(LoginSession.username == username,
                                                   LoginSession.ended_at.is_(None)).values(ended_at=clock.now()))
        revocation.bump(session)
        audit.record(session, actor=principal.username, action="user.password_reset", detail={"username": username})
        return item(user)


def upsert_user(username: str, password: str, *, display_name: str, roles: list[str], groups: list[str],
                actor: str = "system") -> None:
    """Create or overwrite an account whole (the demo seed and tests); the administrator's way is above."""
    roles = _roles(roles)
    check_new_password(username, password)
    with db.transaction() as session:
        groups = _groups(session, groups)
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, created_at=clock.now(), active=True)
            session.add(user)
        user.display_name, user.roles, user.groups = display_name, roles, groups
        user.password_hash, user.must_change_password = hash_password(password), False
        revocation.bump(session)
        audit.record(session, actor=actor, action="user.saved",
                     detail={"username": username, "roles": roles, "groups": groups})
