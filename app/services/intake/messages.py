"""External messages (a court's judicial-confirmation ruling, an arbitration award) delivered to the
case that waits for them: validated against the message's schema, recorded once per document."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select

from app import clock
from app.database import db
from app.engine import runner
from app.errors import (
    Bilingual,
    Conflict,
    EngineFailure,
    FieldError,
    Forbidden,
    FormInvalid,
    NotFound,
    ValidationFailed,
)
from app.models import Case, ReceivedMessage, table_of
from app.services.kernel import audit, definitions, incidents, instances, projection
from app.services.kernel.principals import Principal
from app.states import CaseStatus

_C, _M = table_of(Case), table_of(ReceivedMessage)
_CASE = select(_C.c.id, _C.c.process_instance_id, _C.c.status).where(_C.c.case_no == bindparam("b_no"))
_SEEN = select(_M.c.id).where(_M.c.case_id == bindparam("b_case"), _M.c.name == bindparam("b_name"),
                              _M.c.document_no == bindparam("b_doc"))
_RECORD = insert(_M)
SENDER_ROLES = ("supervisor", "integration")


def _schema_file(name: str) -> str:
    return f"message_{name}.schema.json"


def deliver(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    if not (principal.has_role(*SENDER_ROLES) or "dispatch" in principal.groups):
        raise Forbidden("messages are sent by integrations, supervisors and the dispatch group")
    name, case_no, payload = body.get("name"), body.get("case_no"), body.get("payload")
    problems = [FieldError(field, Bilingual("必填", "required")) for field, value in
                (("name", name), ("case_no", case_no)) if not isinstance(value, str) or not value]
    if not isinstance(payload, dict):
        problems.append(FieldError("payload", Bilingual("必须是对象", "must be an object")))
    if problems:
        raise ValidationFailed("the message is incomplete", problems)
    assert isinstance(name, str) and isinstance(payload, dict)
    try:
        return _deliver(principal, name, str(case_no), payload)
    except EngineFailure as failure:
        _record_failure(principal, name, str(case_no), payload, failure)
        raise


def _record_failure(principal: Principal, name: str, case_no: str, payload: dict[str, Any],
                    failure: EngineFailure) -> None:
    """After the rollback, in a transaction of its own: the failure on the case's timeline, and the incident."""
    with incidents.recording(failure, f"delivering {name} to {case_no}") as conn:
        case = conn.execute(_CASE, {"b_no": case_no}).one()
        document = str(payload.get("document_no") or "") or None
        audit.record(conn, actor=principal.username, action="message.failed", case_id=case.id,
                     instance_id=case.process_instance_id,
                     detail={"name": name, "document_no": document, "element": failure.element,
                             "error": failure.detail[:2000]})
        incidents.record_step(conn, failure, operation=incidents.MESSAGE, case_id=case.id,
                              instance_id=case.process_instance_id,
                              detail={"name": name, "document_no": document, "sender": principal.username})


def _deliver(principal: Principal, name: str, case_no: str, payload: dict[str, Any]) -> dict[str, Any]:
    with db.command() as conn:
        case = conn.execute(_CASE, {"b_no": case_no}).one_or_none()
        if case is None or case.process_instance_id is None:
            raise NotFound(f"case {case_no} does not exist")
        if case.status in (CaseStatus.SUSPENDED, CaseStatus.CANCELLED):
            raise Conflict(Bilingual(f"案件 {case_no} 已{'中止' if case.status == CaseStatus.SUSPENDED else '撤销'}",
                                     f"case {case_no} is {case.status}"))
        # A refused message raises before anything is saved: the transaction rolls back and the workflow
        # taken from the cache is simply reloaded by the next command (a cache miss, nothing more).
        live = instances.lock(conn, case.process_instance_id)
        try:
            form = definitions.form_of(conn, live.definition, _schema_file(name))
        except NotFound:
            known = sorted(n.removeprefix("message_").removesuffix(".schema.json")
                           for n in definitions.source_names(conn, live.definition)
                           if n.startswith("message_") and n.endswith(".schema.json"))
            raise ValidationFailed(Bilingual(f"未知的消息；本案流程可接收：{'、'.join(known)}",
                                             f"unknown message; this case's process knows: {', '.join(known)}"),
                                   [FieldError("name", Bilingual("未知的消息", "unknown message"))]) from None
        context = runner.message_context(live.workflow, name)
        errors = [FieldError(f"payload.{e.field}" if e.field else "payload", e.message)
                  for e in form.validate(payload, context, clock.today)]
        if errors:
            raise FormInvalid(f"the {name} payload does not pass its schema", errors)
        document = str(payload.get("document_no") or "")
        if document and conn.execute(_SEEN, {"b_case": case.id, "b_name": name, "b_doc": document}).first():
            raise Conflict(f"document {document} was already delivered to {case_no} as {name}")
        try:
            runner.deliver_message(live.workflow, name, payload)
        except NotFound:
            raise NotFound(f"case {case_no} is not waiting for {name}") from None
        instances.save(conn, live)
        conn.execute(_RECORD, [{"case_id": case.id, "name": name, "document_no": document or f"#{clock.now()}",
                                "payload": payload, "sender": principal.username, "received_at": clock.now()}])
        received = audit.entry(actor=principal.username, action="message.received", case_id=case.id,
                               instance_id=live.id, detail={"name": name, "payload": payload})
        outcome = projection.sync(conn, live, case.id, actor=principal.username, entries=[received],
                                  case_no=case_no)
        return {"case": outcome.case, "next_tasks": outcome.open_tasks}

