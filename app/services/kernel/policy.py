"""Who may see and do what: the one place services and pages ask (after dispatch's auth/permissions.py).

Services call these before acting and refuse with Forbidden or NotFound; the items they hand to the web
carry the answers as flags (`can_claim`, `can_urge`, ...) so that a page shows exactly the buttons the
service would accept, and never decides by itself."""
from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Connection, and_, exists, false, literal, or_, select, true
from sqlalchemy.orm import Session

from app.models import Case, TaskRow, table_of
from app.services.kernel.principals import Principal
from app.states import TaskState

# The centre's supervision lane (route.md): its 督办 tasks oversee the handling, they are not handling.
SUPERVISION_GROUP = "supervisor"
LISTED_LEVEL = 3  # 挂牌督办, the top of the escalation ladder
_SEEN = table_of(TaskRow).alias("seen_task")
_CASES = table_of(Case).alias("registered_case")


class TaskActions(TypedDict):
    can_claim: bool
    can_unclaim: bool
    can_complete: bool
    can_assign: bool
    can_urge: bool
    can_list: bool


# Tasks ---------------------------------------------------------------------------------------------
# `task` is anything with the inbox row's attributes (an ORM row, a Core row).

def can_see_task(principal: Principal, task: Any) -> bool:
    """Admins see every task, supervisors those of the groups their centres take in; others the tasks of
    their groups and those they hold."""
    return (principal.oversees_group(task.group_name) or task.group_name in principal.groups
            or task.assignee == principal.username)


def is_member(principal: Principal, task: Any) -> bool:
    """May work the task: a member of its group, or an admin."""
    return task.group_name in principal.groups or "admin" in principal.roles


def can_claim(principal: Principal, task: Any) -> bool:
    return task.state == TaskState.OPEN and task.assignee is None and is_member(principal, task)


def can_unclaim(principal: Principal, task: Any) -> bool:
    return task.state == TaskState.OPEN and task.assignee == principal.username


def can_complete(principal: Principal, task: Any) -> bool:
    """A member may complete an unclaimed task (completing claims it); a claimed one only its holder."""
    return (task.state == TaskState.OPEN and task.assignee in (None, principal.username)
            and is_member(principal, task))


def can_assign(principal: Principal, task: Any) -> bool:
    return task.state == TaskState.OPEN and principal.oversees_group(task.group_name)


def can_urge(principal: Principal, task: Any) -> bool:
    """催办 only what the timers found late (warning or above)."""
    return task.state == TaskState.OPEN and principal.oversees_group(task.group_name) and task.escalation_level >= 1


def can_list(principal: Principal, task: Any) -> bool:
    return (task.state == TaskState.OPEN and principal.oversees_group(task.group_name)
            and task.escalation_level < LISTED_LEVEL)


def overseen_tasks(principal: Principal) -> ColumnElement[bool]:
    """The tasks a supervisor's centres take in (everything for admins and the top centre)."""
    principal.require_role("supervisor")
    if principal.oversees is None:
        return true()
    return TaskRow.group_name.in_(sorted(principal.oversees)) if principal.oversees else false()


def task_actions(principal: Principal, task: Any) -> TaskActions:
    return {"can_claim": can_claim(principal, task), "can_unclaim": can_unclaim(principal, task),
            "can_complete": can_complete(principal, task), "can_assign": can_assign(principal, task),
            "can_urge": can_urge(principal, task), "can_list": can_list(principal, task)}


# Cases ---------------------------------------------------------------------------------------------

def sees_every_case(principal: Principal) -> bool:
    return principal.has_role("supervisor") and principal.oversees is None


def case_scope(principal: Principal) -> ColumnElement[bool] | None:
    """The cases a supervisor's lists and figures count; None for every case (admins, the top centre)."""
    return None if sees_every_case(principal) else visible_cases(principal)


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """Cases a user may see: admins and the top centre's supervisors all; other supervisors those that
    reached a group their centres take in; everyone those they registered or whose tasks were in their
    groups or in their hands."""
    if sees_every_case(principal):
        return true()
    groups = principal.groups | (principal.oversees or frozenset()) if principal.has_role("supervisor") \
        else principal.groups
    return or_(Case.created_by == principal.username, exists().where(_involved(principal, groups)))


def _involved(principal: Principal, groups: frozenset[str], case_id: Any = None) -> ColumnElement[bool]:
    """A task of the case (`case_id`, else the statement's case) that was in `groups` or in the caller's
    hands. (An alias of the tasks table: a statement that joins tasks itself, such as the reports' cohort,
    keeps its own.)"""
    return and_(_SEEN.c.case_id == (Case.id if case_id is None else case_id),
                or_(_SEEN.c.group_name.in_(sorted(groups)) if groups else false(),
                    _SEEN.c.assignee == principal.username, _SEEN.c.completed_by == principal.username))


def reveals_personal_data(session: Session, principal: Principal, case: Case) -> bool:
    """ID numbers and phones are shown to those handling the case (and admins), masked for others —
    supervisors urging or listing it included."""
    if "admin" in principal.roles or case.created_by == principal.username:
        return True
    return bool(session.scalar(select(_handling(principal, literal(case.id)))))


def personal_data_visible(principal: Principal, case_id: Any) -> ColumnElement[bool]:
    """reveals_personal_data as a condition on the case `case_id` (a column): what a search by a party's
    name or phone may find."""
    if "admin" in principal.roles:
        return true()
    registered = exists().where(_CASES.c.id == case_id, _CASES.c.created_by == principal.username)
    return or_(registered, _handling(principal, case_id))


def _handling(principal: Principal, case_id: Any) -> ColumnElement[bool]:
    # Their own groups only: overseeing a group is not handling its cases.
    return exists().where(_involved(principal, principal.groups, case_id), _SEEN.c.group_name != SUPERVISION_GROUP)


# Operations on running cases (cancel, suspend, move, migrate, incidents) -----------------------------

def require_operator(principal: Principal) -> None:
    """Admins, and supervisors for the cases of their centres (operations_scope); everyone else: 403."""
    principal.require_role("supervisor")


def operations_scope(principal: Principal) -> ColumnElement[bool] | None:
    """The cases an operator may act on: None for every case (admins, the top centre's supervisors),
    else those a supervisor's lists count (case_scope)."""
    require_operator(principal)
    return case_scope(principal)


def may_operate_on(session: Session | Connection, principal: Principal, case_id: int) -> bool:
    """Whether `principal` (an operator) may act on case `case_id`."""
    scope = operations_scope(principal)
    if scope is None:
        return True
    return session.scalar(select(Case.id).where(Case.id == case_id, scope)) is not None
