"""Cases: register (and start the route), list what the caller may see, show one with its timeline."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from app import clock
from app.database import db
from app.errors import Bilingual, EngineFailure, FieldError, FormInvalid, NotFound
from app.models import Case, TaskRow
from app.services.intake import duplicates, queries
from app.services.kernel import (
    attachments,
    audit,
    case_types,
    definitions,
    history,
    incidents,
    instances,
    policy,
    present,
    projection,
)
from app.services.kernel.paging import Page, paginate
from app.services.kernel.principals import Principal
from app.services.kernel.shapes import CaseDetail, CaseSummary
from app.states import TaskState


def register(principal: Principal, body: Any, received_at: datetime | None = None) -> tuple[CaseSummary, bool]:
    """Register a case and start its process. Returns (case, created); the same (source, external_id)
    again returns the existing case with created=False (idempotent intake for the 12345/110 feeds).
    `received_at`: when the source system received a work order registered later (imports); the
    registration's own time otherwise. A feed (integration account) may send it in the body instead.
    When the process fails inside the engine as it starts, nothing is registered (EngineFailure) and the
    failure is an incident for the operators."""
    principal.require_role("intake", "integration")
    if isinstance(body, dict) and RECEIVED_AT in body:
        body = dict(body)
        received_at = _sent_reception_time(principal, body.pop(RECEIVED_AT))
    case_type: Any = case_types.DEFAULT  # sent as null or anything but a key, it is refused
    if isinstance(body, dict) and case_types.FIELD in body:
        body = dict(body)
        case_type = body.pop(case_types.FIELD)
    try:
        return _register(principal, body, case_type, received_at)
    except EngineFailure as failure:
        # The registration's whole transaction rolled back: the incident says which work order it was.
        incidents.record_step_failure(failure, "registering a case", operation=incidents.REGISTER, detail={
            "source": body.get("source"), "external_id": body.get("external_id"), "actor": principal.username,
            "case_type": case_type})
        raise


def _register(principal: Principal, body: Any, case_type: Any,
              received_at: datetime | None) -> tuple[CaseSummary, bool]:
    try:
        with db.command() as conn:
            definition = case_types.definition_of(conn, case_type)
            form = case_types.start_form(conn, definition)
            errors = form.validate(body, today=clock.today) or _case_fields_missing(body)
            if errors:
                raise FormInvalid("the case does not pass the registration form", errors)
            existing = body.get("external_id") and conn.execute(
                _BY_EXTERNAL, {"b_source": body["source"], "b_external": body["external_id"]}).scalar()
            if not existing:
                return _create(conn, principal, body, definition, form.schema, received_at), True
        return _existing(principal, existing), False
    except IntegrityError:
        # Two feeds raced on the same work order: the other one created it, answer with that.
        existing = _find_external(body["source"], body.get("external_id"))
        if existing is None:
            raise
        return _existing(principal, existing), False


RECEIVED_AT = "received_at"
# Every case has these, whichever start form it came through (a start form declares them; designer checks).
CASE_FIELDS = ("title", "source")


def _case_fields_missing(body: dict[str, Any]) -> list[FieldError]:
    return [FieldError(name, Bilingual("必填", "is required")) for name in CASE_FIELDS
            if not isinstance(body.get(name), str) or not body[name].strip()]


def _sent_reception_time(principal: Principal, value: Any) -> datetime:
    """The reception time a 12345 / 110 feed sends with a work order: ISO 8601 with an offset, not in
    the future nor before 2000 (an older year is a typing error, and a year before 1901 has no offset in
    whole minutes to show it with). A window registers what it receives now, so only feeds may send one."""
    def refuse(message: str) -> FormInvalid:
        return FormInvalid("the reception time is not accepted", [FieldError(RECEIVED_AT, message)])

    if "integration" not in principal.roles:
        raise refuse(Bilingual("只有接口账号可提供受理时间", "only integration accounts send a reception time"))
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise refuse(Bilingual("须为带时区的 ISO 8601 时间",
                               "must be an ISO 8601 time with an offset (2026-12-01T09:30:00+08:00)"))
    if moment > clock.now() + timedelta(minutes=5):  # clocks of two systems differ by a little
        raise refuse(Bilingual("不能晚于当前时间", "must not be in the future"))
    if moment.year < 2000:
        raise refuse(Bilingual("不能早于 2000 年", "must not be before 2000"))
    return moment


def _existing(principal: Principal, case_id: int) -> CaseSummary:
    """The case a repeated work order points at. A sender who may not see it (another feed, another
    window) still learns its number and state — never its parties or timeline."""
    try:
        return get_case(principal, case_id)
    except NotFound:
        with db.transaction() as session:
            case = session.get(Case, case_id)
            assert case is not None
            return present.case_summary(case)


_BY_EXTERNAL = select(Case.id).where(Case.source == bindparam("b_source"), Case.external_id == bindparam("b_external"))


def _find_external(source: str, external_id: str | None) -> int | None:
    with db.transaction() as session:
        return session.execute(_BY_EXTERNAL, {"b_source": source, "b_external": external_id}).scalar()


def _create(conn: Connection, principal: Principal, body: dict[str, Any], definition: definitions.DefinitionInfo,
            schema: dict[str, Any], received_at: datetime | None) -> CaseSummary:
    now = clock.now()
    received_at = min(received_at, now) if received_at is not None else now
    location = body.get("location") or {}
    case_no = _next_case_no(conn)
    case_id = queries.insert_case(conn, {
        "case_no": case_no, "case_type": definition.key, "title": body["title"],
        "description": body.get("description") or "",
        "request": body.get("request"), "source": body["source"], "external_id": body.get("external_id"),
        "category": body.get("category"), "urgency": body.get("urgency", "normal"),
        "risk_level": body.get("risk_level"),
        "amount": Decimal(str(body["amount"])) if body.get("amount") is not None else None,
        "grid": location.get("grid"), "address": location.get("address"),
        "willing_to_mediate": body.get("willing_to_mediate"), "status": "registered", "procedure": None,
        "procedure_since": None, "handling_group": None, "complexity": None, "outcome": None, "satisfied": None,
        "reopen_count": 0, "process_instance_id": None, "created_by": principal.username, "created_at": now,
        "received_at": received_at, "updated_at": now,
        "closed_at": None})
    audit.new_chain(case_id)
    queries.insert_parties(conn, [
        {"case_id": case_id, "position": i, "name": p["name"], "role": p["role"], "phone": p.get("phone"),
         "id_number": (p.get("id_number") or "").upper() or None} for i, p in enumerate(body.get("parties") or [])])
    duplicates.flag(conn, case_id, body.get("category"), now, received_at)
    data = {name: body.get(name) for name in schema.get("properties", {}) if name not in case_types.CASE_ROW_ONLY}
    data.update(case_id=case_id, case_no=case_no, urgency=body.get("urgency", "normal"))
    live = instances.start(conn, definition, data, now)
    registered = audit.entry(actor=principal.username, action="case.registered", case_id=case_id,
                             instance_id=live.id, at=now, detail={
                                 "case_no": case_no, "case_type": definition.key, "source": body["source"],
                                 "external_id": body.get("external_id"),
                                 "category": body.get("category"), "process": f"{definition.key}:{definition.version}"})
    outcome = projection.sync(conn, live, case_id, actor=principal.username, entries=[registered], case_no=case_no,
                              now=now)
    return {**outcome.case, "active_tasks": outcome.open_tasks}


def _next_case_no(conn: Connection) -> str:
    year = clock.now().astimezone(clock.zone()).year
    name = f"case_no:{year}"
    value = queries.bump_counter(conn, name)
    if value is None:  # the year's first case: create the counter (a racing node may do the same)
        queries.create_counter(conn, name)
        value = queries.bump_counter(conn, name)
        assert value is not None
    return f"ZZ-{year}-{value:06d}"


def registration_form(case_type: str | None = None) -> dict[str, Any]:
    """The start form of a case type's latest deployed version (key, schema, UI schema); the default
    type's when none is named. 422 for an unknown case type."""
    with db.transaction() as session:
        definition = case_types.definition_of(session, case_type or case_types.DEFAULT)
        form = case_types.start_form(session, definition)
        return {"key": form.key, "schema": form.schema, "ui_schema": form.ui_schema,
                "case_type": definition.key, "case_type_name": definition.name}


def list_case_types() -> list[dict[str, Any]]:
    """The case types one may register (GET /case-types)."""
    return case_types.listing()


def list_cases(principal: Principal, *, status: str | None = None, category: str | None = None,
               source: str | None = None, q: str | None = None, overdue: bool | None = None,
               procedure: str | None = None, case_type: str | None = None, page: int = 1,
               per_page: int = 50) -> Page:
    query = select(Case).where(policy.visible_cases(principal))
    for column, value in ((Case.status, status), (Case.category, category), (Case.source, source),
                          (Case.procedure, procedure), (Case.case_type, case_type)):
        if value:
            query = query.where(column == value)
    if q:
        # The words are searched for as typed: % and _ are not wildcards to the person typing them.
        words = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{words}%"
        query = query.where(or_(Case.case_no.ilike(pattern, escape="\\"), Case.title.ilike(pattern, escape="\\"),
                                Case.external_id.ilike(pattern, escape="\\")))  # a work order's number too
    if overdue is not None:
        late = exists().where(TaskRow.case_id == Case.id, TaskRow.state == TaskState.OPEN, TaskRow.due_at < clock.now())
        query = query.where(late if overdue else ~late)
    with db.transaction() as session:
        return paginate(session, query.order_by(Case.id.desc()), page, per_page, present.case_summary)


def get_case(principal: Principal, case_id: int) -> CaseDetail:
    with db.transaction() as session:
        case = session.scalar(select(Case).where(Case.id == case_id, policy.visible_cases(principal)))
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        open_tasks = session.scalars(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == TaskState.OPEN)
                                     .order_by(TaskRow.created_at)).all()
        return present.case_detail(
            case, reveal=policy.reveals_personal_data(session, principal, case),
            tasks=[present.task_item_for(principal, t) for t in open_tasks],
            timeline=audit.case_timeline(session, case.id),
            duplicates=duplicates.of_case(session, case.id, policy.visible_cases(principal)),
            attachments=attachments.of_case(session, case.id))


def case_record(principal: Principal, case_id: int) -> dict[str, Any]:
    """For the case page: the names of the case's codes and what its completed steps recorded, labelled
    (app.services.kernel.history); NotFound for a case the caller may not see."""
    with db.transaction() as session:
        case = session.scalar(select(Case).where(Case.id == case_id, policy.visible_cases(principal)))
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        return {"labels": history.case_labels(session, case), "history": history.completed_steps(session, case.id)}


def case_count() -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count(Case.id))) or 0)
