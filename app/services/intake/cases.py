"""Cases: register (and start the route), list what the caller may see, show one with its timeline."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.errors import FieldError, FormInvalid, NotFound
from app.extensions import db, settings
from app.models import Case, Counter, Party, TaskRow, table_of
from app.prepared import Prepared
from app.services.accounts.auth import Principal
from app.services.intake import duplicates
from app.services.kernel import audit, definitions, instances, present, projection
from app.services.kernel.paging import Page, paginate

ROUTE_KEY = "dispute_case"
# What the route needs to know at start; personal data (parties) stays out of the process state.
PROCESS_FIELDS = ("source", "category", "urgency", "amount", "risk_level", "willing_to_mediate")


def register(principal: Principal, body: Any, received_at: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Register a case and start its process. Returns (case, created); the same (source, external_id)
    again returns the existing case with created=False (idempotent intake for the 12345/110 feeds).
    `received_at`: when the source system received a work order registered later (imports); the
    registration's own time otherwise. A feed (integration account) may send it in the body instead."""
    principal.require_role("intake", "integration")
    if isinstance(body, dict) and RECEIVED_AT in body:
        body = dict(body)
        received_at = _sent_reception_time(principal, body.pop(RECEIVED_AT))
    try:
        with db.command() as session:
            definition = definitions.latest_definition(session, ROUTE_KEY)
            form = definitions.form_of(session, definition, definition.start_form or "register_case.schema.json")
            errors = form.validate(body, today=present.today)
            if errors:
                raise FormInvalid("the case does not pass the registration form", errors)
            existing = body.get("external_id") and session.execute(
                _BY_EXTERNAL, {"b_source": body["source"], "b_external": body["external_id"]}).scalar()
            if not existing:
                return _create(session, principal, body, definition, received_at), True
        return _existing(principal, existing), False
    except IntegrityError:
        # Two feeds raced on the same work order: the other one created it, answer with that.
        existing = _find_external(body["source"], body.get("external_id"))
        if existing is None:
            raise
        return _existing(principal, existing), False


RECEIVED_AT = "received_at"


def _sent_reception_time(principal: Principal, value: Any) -> datetime:
    """The reception time a 12345 / 110 feed sends with a work order: ISO 8601 with an offset, not in
    the future nor before 2000 (an older year is a typing error, and a year before 1901 has no offset in
    whole minutes to show it with). A window registers what it receives now, so only feeds may send one."""
    def refuse(message: str) -> FormInvalid:
        return FormInvalid("the reception time is not accepted", [FieldError(RECEIVED_AT, message)])

    if "integration" not in principal.roles:
        raise refuse("只有接口账号可提供受理时间 / only integration accounts send a reception time")
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise refuse("须为带时区的 ISO 8601 时间 / must be an ISO 8601 time with an offset "
                     "(2026-12-01T09:30:00+08:00)")
    if moment > clock.now() + timedelta(minutes=5):  # clocks of two systems differ by a little
        raise refuse("不能晚于当前时间 / must not be in the future")
    if moment.year < 2000:
        raise refuse("不能早于 2000 年 / must not be before 2000")
    return moment


def _existing(principal: Principal, case_id: int) -> dict[str, Any]:
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


def _create(session: Connection, principal: Principal, body: dict[str, Any],
            definition: definitions.DefinitionInfo, received_at: datetime | None) -> dict[str, Any]:
    now = clock.now()
    received_at = min(received_at, now) if received_at is not None else now
    location = body.get("location") or {}
    case_no = _next_case_no(session)
    case_id = _INSERT_CASE.run(session, {
        "case_no": case_no, "title": body["title"], "description": body["description"],
        "request": body.get("request"), "source": body["source"], "external_id": body.get("external_id"),
        "category": body.get("category"), "urgency": body.get("urgency", "normal"),
        "risk_level": body.get("risk_level"),
        "amount": Decimal(str(body["amount"])) if body.get("amount") is not None else None,
        "grid": location.get("grid"), "address": location.get("address"),
        "willing_to_mediate": body.get("willing_to_mediate"), "status": "registered", "procedure": None,
        "procedure_since": None, "handling_group": None, "complexity": None, "outcome": None, "satisfied": None,
        "reopen_count": 0, "process_instance_id": None, "created_by": principal.username, "created_at": now,
        "received_at": received_at, "updated_at": now,
        "closed_at": None}).scalar_one()
    _INSERT_PARTIES.run_many(session, [
        {"case_id": case_id, "position": i, "name": p["name"], "role": p["role"], "phone": p.get("phone"),
         "id_number": (p.get("id_number") or "").upper() or None} for i, p in enumerate(body["parties"])])
    duplicates.flag(session, case_id, body.get("category"), now, received_at)
    data = {name: body.get(name) for name in PROCESS_FIELDS}
    data.update(case_id=case_id, case_no=case_no, urgency=body.get("urgency", "normal"))
    live = instances.start(session, definition, data, now)
    registered = audit.entry(actor=principal.username, action="case.registered", case_id=case_id,
                             instance_id=live.id, at=now, detail={
                                 "case_no": case_no, "source": body["source"], "external_id": body.get("external_id"),
                                 "category": body.get("category"), "process": f"{definition.key}:{definition.version}"})
    outcome = projection.sync(session, live, case_id, actor=principal.username, entries=[registered], case_no=case_no,
                              now=now)
    return {**outcome.case, "active_tasks": outcome.open_tasks}


def _next_case_no(session: Connection) -> str:
    year = clock.now().astimezone(ZoneInfo(settings["TIMEZONE"])).year
    name = f"case_no:{year}"
    value = _BUMP_COUNTER.run(session, {"b_name": name}).scalar()
    if value is None:  # the year's first case: create the counter (a racing node may do the same)
        session.execute(_CREATE_COUNTER[session.dialect.name], {"b_name": name})
        value = _BUMP_COUNTER.run(session, {"b_name": name}).scalar_one()
    return f"ZZ-{year}-{value:06d}"


_COUNTERS = table_of(Counter)
# UPDATE ... RETURNING is cacheable; an upsert with a SET clause is not (it recompiles every time).
_BUMP_COUNTER = Prepared(update(_COUNTERS).where(_COUNTERS.c.name == bindparam("b_name"))
                         .values(value=_COUNTERS.c.value + 1).returning(_COUNTERS.c.value))
_CREATE_COUNTER = {name: dialect.insert(_COUNTERS).values(name=bindparam("b_name"), value=0)
                   .on_conflict_do_nothing(index_elements=["name"])
                   for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}
_INSERT_CASE = Prepared(insert(table_of(Case)).returning(table_of(Case).c.id))
_INSERT_PARTIES = Prepared(insert(table_of(Party)))


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    """Cases a user may see: supervisors and admins all; others those they registered or whose tasks
    were in their groups or in their hands."""
    if principal.has_role("supervisor"):
        return true()
    return or_(Case.created_by == principal.username, _touches(principal))


def _involved(principal: Principal) -> ColumnElement[bool]:
    """A task of the case that was in the caller's groups or in their hands."""
    groups = list(principal.groups)
    return and_(TaskRow.case_id == Case.id, or_(TaskRow.group_name.in_(groups) if groups else false(),
                                                TaskRow.assignee == principal.username,
                                                TaskRow.completed_by == principal.username))


def _touches(principal: Principal) -> ColumnElement[bool]:
    return exists().where(_involved(principal))


# The centre's supervision lane (route.md): its 督办 tasks oversee the handling, they are not handling.
SUPERVISION_GROUP = "supervisor"


def reveals_personal_data(session: Session, principal: Principal, case: Case) -> bool:
    """ID numbers and phones are shown to those handling the case (and admins), masked for others —
    supervisors urging or listing it included."""
    if "admin" in principal.roles or case.created_by == principal.username:
        return True
    handling = exists().where(_involved(principal), TaskRow.group_name != SUPERVISION_GROUP)
    return bool(session.scalar(select(handling).where(Case.id == case.id)))


def list_cases(principal: Principal, *, status: str | None = None, category: str | None = None,
               source: str | None = None, q: str | None = None, overdue: bool | None = None,
               procedure: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    query = select(Case).where(visible_clause(principal))
    for column, value in ((Case.status, status), (Case.category, category), (Case.source, source),
                          (Case.procedure, procedure)):
        if value:
            query = query.where(column == value)
    if q:
        # The words are searched for as typed: % and _ are not wildcards to the person typing them.
        words = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{words}%"
        query = query.where(or_(Case.case_no.ilike(pattern, escape="\\"), Case.title.ilike(pattern, escape="\\")))
    if overdue is not None:
        late = exists().where(TaskRow.case_id == Case.id, TaskRow.state == "open", TaskRow.due_at < clock.now())
        query = query.where(late if overdue else ~late)
    with db.transaction() as session:
        return paginate(session, query.order_by(Case.id.desc()), page, per_page, present.case_summary)


def get_case(principal: Principal, case_id: int) -> dict[str, Any]:
    with db.transaction() as session:
        case = session.scalar(select(Case).where(Case.id == case_id, visible_clause(principal)))
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        open_tasks = session.scalars(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "open")
                                     .order_by(TaskRow.created_at)).all()
        return present.case_detail(
            case, reveal=reveals_personal_data(session, principal, case),
            tasks=[present.task_item(t, case.case_no) for t in open_tasks],
            timeline=audit.case_timeline(session, case.id),
            duplicates=duplicates.of_case(session, case.id, visible_clause(principal)))


def case_count() -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count(Case.id))) or 0)
