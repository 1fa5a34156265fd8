"""The principal every service call carries, and how one is found for a username.

The kernel owns it because every domain asks who is calling; accounts (login, tokens, users) only
produces principals."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import object_session

from app.database import db
from app.errors import Forbidden
from app.models import User
from app.services.kernel import directory

ROLES = ("intake", "handler", "supervisor", "designer", "admin", "integration")


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    # The groups a supervisor oversees (their centres and those below); None: every group.
    oversees: frozenset[str] | None = None
    must_change_password: bool = False  # after a reset: this login may only change the password

    def oversees_group(self, group: str | None) -> bool:
        """A supervisor (or admin) whose centres take in `group`."""
        return self.has_role("supervisor") and (self.oversees is None or group in self.oversees)

    def has_role(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(self.roles.intersection(roles))

    def require_role(self, *roles: str) -> None:
        if not self.has_role(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")

    def as_dict(self) -> dict[str, object]:
        return {"username": self.username, "display_name": self.display_name,
                "roles": sorted(self.roles), "groups": sorted(self.groups)}


def principal_of(user: User) -> Principal:
    roles, groups = frozenset(user.roles), frozenset(user.groups)
    oversees = (None if "admin" in roles or "supervisor" not in roles
                else directory.current(object_session(user)).oversight(groups))
    return Principal(user.username, user.display_name, roles, groups, oversees,
                     bool(getattr(user, "must_change_password", False)))


def group_members(groups: set[str]) -> dict[str, list[str]]:
    """Active members of each of `groups`, read in one query (groups are a JSON list per user)."""
    members: dict[str, list[str]] = {group: [] for group in sorted(groups)}
    with db.transaction() as session:
        for user in session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)):
            for group in groups.intersection(user.groups):
                members[group].append(user.username)
    return members


def find_principal(username: str) -> Principal | None:
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        return principal_of(user) if user is not None and user.active else None
