"""What every operation on a running case starts with: the case and its instance, locked, checked.

An operation locks the instance row first (the order every command locks in), then reads the case; it
refuses (403) callers who may not operate, hides (404) cases outside a supervisor's centres, and answers
409 when the caller acted on a version of the instance that is no longer current (someone moved it).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from app.errors import Bilingual, ConcurrentUpdate, NotFound, ValidationFailed
from app.models import Case, ProcessInstance, table_of
from app.services.kernel import instances, policy
from app.services.kernel.principals import Principal

_C, _PI = table_of(Case), table_of(ProcessInstance)
MAX_REASON = 500
_CASE = select(_C.c.id, _C.c.case_no, _C.c.status, _C.c.process_instance_id).where(_C.c.id == bindparam("b_id"))
_INSTANCE = select(_PI.c.id, _PI.c.version, _PI.c.status, _PI.c.definition_id, _PI.c.suspended_at,
                   _PI.c.status_before_suspension).where(_PI.c.id == bindparam("b_id"))
_CASE_OF_INSTANCE = select(_C.c.id).where(_C.c.process_instance_id == bindparam("b_id"))
_BUMP = (update(_PI).where(_PI.c.id == bindparam("b_id"), _PI.c.version == bindparam("b_expected"))
         .values(version=_PI.c.version + 1, updated_at=bindparam("b_now")))


def reason_of(body: Any) -> str:
    """The operator's reason: required, at most MAX_REASON characters (422 otherwise)."""
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed.of_field("reason", "请填写原因", "a reason is required")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.of_field("reason", f"原因不能超过 {MAX_REASON} 个字符",
                                        f"the reason is longer than {MAX_REASON} characters")
    return reason.strip()


MAX_INTEGER = 2**63 - 1  # what a database integer holds (larger numbers name nothing)


def positive_integer(value: Any) -> int | None:
    """`value` as an integer from 1 to MAX_INTEGER (JSON's 3.0 is the integer 3), else None."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_INTEGER:
        return value
    return None


def expected_version(body: Any) -> int | None:
    """The instance version the caller saw (optional): acting on an older one is a 409."""
    if not isinstance(body, dict) or "version" not in body:
        return None
    version = positive_integer(body["version"])
    if version is None:
        raise ValidationFailed.of_field("version", "版本号必须是正整数", "version must be a positive integer")
    return version


def lock_case(conn: Connection, principal: Principal, case_id: int, version: int | None) -> tuple[Any, Any]:
    """(case row, instance row) with the instance locked for this transaction."""
    policy.require_operator(principal)
    case = conn.execute(_CASE, {"b_id": case_id}).one_or_none()
    if case is None or case.process_instance_id is None or not policy.may_operate_on(conn, principal, case_id):
        raise NotFound(f"case {case_id} does not exist")
    instances.lock_row_waiting(conn, case.process_instance_id)
    instance = conn.execute(_INSTANCE, {"b_id": case.process_instance_id}).one()
    case = conn.execute(_CASE, {"b_id": case_id}).one()  # as it stands now that the instance is ours
    check_version(instance, version)
    return case, instance


def lock_instance(conn: Connection, principal: Principal, instance_id: int, version: int | None) -> tuple[Any, Any]:
    """lock_case for a process instance's id."""
    policy.require_operator(principal)
    case_id = conn.execute(_CASE_OF_INSTANCE, {"b_id": instance_id}).scalar()
    if case_id is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    return lock_case(conn, principal, case_id, version)


def case_of_instance(conn: Connection, instance_id: int) -> int:
    """The id of the case an instance runs for."""
    return int(conn.execute(_CASE_OF_INSTANCE, {"b_id": instance_id}).scalar_one())


def check_version(instance: Any, version: int | None) -> None:
    if version is not None and version != instance.version:
        raise ConcurrentUpdate(Bilingual(
            "案件在此期间已有变化，请刷新后重试",
            f"the case moved meanwhile (version {instance.version}, not {version}): reload and retry"))


def bump(conn: Connection, instance: Any, now: Any) -> None:
    """Advance the instance's version without touching its state: a cached workflow of the old version is
    never used again (its case row would be stale), and racing commands lose (409)."""
    if conn.execute(_BUMP, {"b_id": instance.id, "b_expected": instance.version, "b_now": now}).rowcount != 1:
        raise ConcurrentUpdate(f"process instance {instance.id} was changed by another request; reload and retry")
    instances.cache.forget(instance.id)
