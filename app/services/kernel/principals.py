"""The principal every service call carries, and how one is found for a username.

The kernel owns it because every domain asks who is calling; accounts (login, tokens, users) only
produces principals."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.database import db
from app.errors import Forbidden
from app.models import User

ROLES = ("intake", "handler", "supervisor", "designer", "admin", "integration")


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(self.roles.intersection(roles))

    def require_role(self, *roles: str) -> None:
        if not self.has_role(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")

    def as_dict(self) -> dict[str, object]:
        return {"username": self.username, "display_name": self.display_name,
                "roles": sorted(self.roles), "groups": sorted(self.groups)}


def principal_of(user: User) -> Principal:
    return Principal(user.username, user.display_name, frozenset(user.roles), frozenset(user.groups))


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
