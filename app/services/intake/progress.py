"""The public progress lookup (一案一码): an applicant who has the case number and the phone they gave at
registration sees where the case is — its status and the coarse public steps with their times — and
nothing personal: no names, phones, ID numbers, descriptions, groups or officers.

Who asks is not logged in, so nothing here may tell a stranger more than "no": an unknown number, a
respondent's phone and a wrong phone are all the same NotFound, after the same one query. Each client
address has a sliding-window limit (kernel.throttle) against guessing phones for a known number."""
from __future__ import annotations

import hmac
import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.database import db
from app.errors import Bilingual, NotFound
from app.models import AuditEntry, Case, Party, ProcessInstance
from app.runtime import settings
from app.services.kernel import audit, definitions, present, throttle
from app.states import CaseStatus

log = logging.getLogger(__name__)
NO_SUCH_CASE = Bilingual("未找到与该案件编号和电话相符的案件", "no case matches that case number and phone")
STATUS = {
    CaseStatus.REGISTERED: Bilingual("已登记", "Registered"),
    CaseStatus.DISPATCHED: Bilingual("已交办", "Assigned"),
    CaseStatus.HANDLING: Bilingual("办理中", "Being handled"),
    CaseStatus.IN_CHANNEL: Bilingual("依法定途径办理中", "Being handled through a legal channel"),
    CaseStatus.FEEDBACK: Bilingual("反馈回访", "Follow-up visit"),
    CaseStatus.CLOSED: Bilingual("已办结", "Closed"),
    CaseStatus.SUSPENDED: Bilingual("已中止", "Suspended"),
    CaseStatus.CANCELLED: Bilingual("已撤销", "Cancelled"),
}
# The step a case enters when a task setting this status opens (the diagrams' caseStatus): registered
# is the registration itself, and a triage or dispatch task keeps the case registered.
_ENTERED = {
    CaseStatus.DISPATCHED: Bilingual("分流交办", "Assigned to a handling unit"),
    CaseStatus.HANDLING: Bilingual("办理/调解", "Handling / mediation"),
    CaseStatus.IN_CHANNEL: Bilingual("转入法定途径办理", "Referred to a legal channel"),
    CaseStatus.FEEDBACK: Bilingual("反馈回访", "Follow-up visit"),
}
_EVENTS = {
    "case.registered": Bilingual("受理登记", "Registered"),
    "case.suspended": Bilingual("中止办理", "Suspended"),
    "case.resumed": Bilingual("恢复办理", "Resumed"),
    "case.cancelled": Bilingual("撤销", "Cancelled"),
    "case.closed": Bilingual("办结", "Closed"),
}
_TIMELINE_ACTIONS = (*_EVENTS, "task.opened")
_CASE_NO = re.compile(r"[A-Z0-9-]{1,32}")


def lookup(case_no: Any, phone: Any, client: str) -> dict[str, Any]:
    """{"case_no", "status", "milestones": [{"at", "title"}]} with status and titles Bilingual, for the
    applicant whose phone it is; NotFound otherwise; TooManyRequests past the address's limit."""
    throttle.public_lookups.admit(client, settings.get("PUBLIC_LOOKUPS_PER_MINUTE", 10), timedelta(minutes=1),
                                  "progress lookups")
    number = case_no.strip().upper() if isinstance(case_no, str) else ""
    if not _CASE_NO.fullmatch(number):  # typed by anyone: nothing else reaches the query or the log
        number = ""
    digits = normalised_phone(phone)
    with db.transaction() as session:
        rows = session.execute(select(Case.id, Case.status, Party.phone).select_from(Case).outerjoin(
            Party, and_(Party.case_id == Case.id, Party.role == "applicant")).where(Case.case_no == number)).all()
        # Every applicant's phone is compared, in constant time, found or not: no shortcut to time.
        matched = False
        for known in [row.phone for row in rows] or [None]:
            matched |= hmac.compare_digest(normalised_phone(known) or "-", digits or "+")
        # The phone never goes to the log: the number and whether it matched are enough to see guessing.
        log.info("public progress lookup of %s from %s: %s", number or "(not a case number)", client,
                 "found" if matched else "refused")
        if not matched:
            raise NotFound(NO_SUCH_CASE)
        case_id, status = rows[0].id, rows[0].status
        return {"case_no": number, "status": STATUS.get(status, STATUS[CaseStatus.REGISTERED]),
                "milestones": _milestones(session, case_id)}


def normalised_phone(phone: Any) -> str:
    """The digits of a phone number, without a leading +86/0086 country code: '138-0013-8000' and
    '+86 13800138000' are the same phone."""
    digits = re.sub(r"[^0-9]", "", phone) if isinstance(phone, str) else ""
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


def _milestones(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The public steps of the case in order, from its audit log: registration, the statuses its open
    tasks set as the case moved on (a repeated status is one step), suspension, resumption, the end."""
    steps: list[dict[str, Any]] = []
    last_status: str | None = CaseStatus.REGISTERED
    definition_of: dict[int, int | None] = {}
    for entry in _timeline(session, case_id):
        title: Bilingual | None = _EVENTS.get(entry.action)
        if entry.action == "task.opened" and entry.instance_id is not None:
            if entry.instance_id not in definition_of:
                definition_of[entry.instance_id] = session.scalar(
                    select(ProcessInstance.definition_id).where(ProcessInstance.id == entry.instance_id))
            definition_id = definition_of[entry.instance_id]
            status = None if definition_id is None else definitions.declared_case_status(
                session, definition_id, str((entry.detail or {}).get("task", "")))
            if status is None or status == last_status:
                continue  # a side task (督办) or a step within the same stage
            last_status, title = status, _ENTERED.get(CaseStatus(status)) if status in _ENTERED else None
        if title is not None:
            steps.append({"at": present.iso(entry.at), "title": title})
    return steps


def _timeline(session: Session, case_id: int) -> list[AuditEntry]:
    return [entry for entry in audit.case_timeline(session, case_id) if entry.action in _TIMELINE_ACTIONS]
