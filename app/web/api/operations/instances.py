"""The operations console's API: running instances, cancel, suspend, resume, move, migrate, incidents."""
from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.services.operations import incidents as incident_service
from app.services.operations import intervention, lifecycle, listing, migration
from app.web.api.blueprint import bp
from app.web.api.schemas import case_links, page_of, ref, task_links
from app.web.api.support import authenticated, bool_arg, doc, int_arg, json_body, principal

_OPERATOR = "Not an admin or supervisor"
_CASE_ACTION = {403: _OPERATOR, 404: "Unknown case, or outside the supervisor's centres",
                422: "Reason missing, blank or too long; version not a positive integer"}


@bp.get("/process-instances")
@authenticated
@doc("Process instances an operator may act on, newest first", tag="operations",
     query=("process_key", "version", "state", "waiting_at", "incident", "page", "per_page"),
     answer=page_of("ProcessInstance"), links={200: case_links("/items/0/case_id")},
     responses={200: "A page of instances", 403: _OPERATOR,
                422: "state unknown; version, page or per_page not a number; incident not a boolean"})
def list_process_instances() -> ResponseReturnValue:
    version = request.args.get("version")
    return jsonify(listing.list_instances(
        principal(), process_key=request.args.get("process_key") or None,
        version=int_arg("version", 0) if version else None, state=request.args.get("state") or None,
        waiting_at=request.args.get("waiting_at") or None, incident=bool_arg("incident"),
        page=int_arg("page", 1), per_page=int_arg("per_page", 50)))


@bp.post("/cases/<int:case_id>/cancel")
@authenticated
@doc("Cancel (撤销) a case: its open tasks leave every inbox, its timers stop", tag="operations", body="Reason",
     answer=ref("CaseOperation"), links={200: case_links("/case_id")},
     responses={200: "Cancelled", **_CASE_ACTION, 409: "Closed or cancelled already, or moved meanwhile"})
def cancel_case(case_id: int) -> ResponseReturnValue:
    return jsonify(lifecycle.cancel(principal(), case_id, json_body()))


@bp.post("/cases/<int:case_id>/suspend")
@authenticated
@doc("Suspend (中止) a case: nothing fires or completes until it resumes", tag="operations", body="Reason",
     answer=ref("CaseOperation"), links={200: case_links("/case_id")},
     responses={200: "Suspended", **_CASE_ACTION, 409: "Not running (closed, cancelled, suspended), or moved "
                                                      "meanwhile"})
def suspend_case(case_id: int) -> ResponseReturnValue:
    return jsonify(lifecycle.suspend(principal(), case_id, json_body()))


@bp.post("/cases/<int:case_id>/resume")
@authenticated
@doc("Resume (恢复) a suspended case; its due instants move later by the suspended working time",
     tag="operations", body="Reason", answer=ref("CaseOperation"), links={200: case_links("/case_id")},
     responses={200: "Resumed", **_CASE_ACTION, 409: "Not suspended, or moved meanwhile"})
def resume_case(case_id: int) -> ResponseReturnValue:
    return jsonify(lifecycle.resume(principal(), case_id, json_body()))


@bp.post("/process-instances/<int:instance_id>/move")
@authenticated
@doc("Move the token at one element to another (流程干预: send back, skip)", tag="operations", body="Move",
     answer=ref("StepResult"), links={200: {**case_links("/case/id"), **task_links("/next_tasks/0/id")}},
     responses={200: "Moved: the case and its open tasks now", 403: _OPERATOR,
                404: "Unknown instance, or outside the supervisor's centres",
                409: "The case is not running, or moved meanwhile",
                422: "Unknown element, no token at `from`, `to` not a human task of the same (sub)process; "
                     "reason missing",
                500: "The process failed at the new element (process-failure); nothing was kept"})
def move_token(instance_id: int) -> ResponseReturnValue:
    return jsonify(intervention.move(principal(), instance_id, json_body()))


@bp.post("/process-instances/migrate")
@authenticated
@doc("Migrate running instances to another version of their process (dry run first)", tag="operations",
     body="Migration", answer=ref("MigrationReport"),
     responses={200: "What was (or, in a dry run, would be) migrated, and the problems of the others",
                403: _OPERATOR, 404: "No such process version", 409: "The same version twice",
                422: "Fields missing or of the wrong type"})
def migrate_instances() -> ResponseReturnValue:
    return jsonify(migration.migrate(principal(), json_body()))


@bp.get("/incidents")
@authenticated
@doc("Unresolved incidents (steps and timers that failed inside the engine), most recently seen first",
     tag="operations", answer=ref("Incidents"), responses={200: "At most 200 incidents", 403: _OPERATOR})
def list_incidents() -> ResponseReturnValue:
    return jsonify(incident_service.list_incidents(principal()))


@bp.post("/incidents/<int:incident_id>/retry")
@authenticated
@doc("Retry an incident: its timer goes back in the queue, or its case's engine steps run again",
     tag="operations", answer=ref("IncidentAction"),
     responses={200: "Retried (a timer fires on the timer service's next pass)", 403: _OPERATOR,
                404: "Unknown incident, or outside the supervisor's centres",
                409: "Resolved already, or a failed registration (nothing to retry)",
                500: "Still failing (process-failure): the incident is counted once more"})
def retry_incident(incident_id: int) -> ResponseReturnValue:
    return jsonify(incident_service.retry(principal(), incident_id))


@bp.post("/incidents/<int:incident_id>/resolve")
@authenticated
@doc("Mark an incident resolved (fixed otherwise), with a reason", tag="operations", body="Reason",
     answer=ref("IncidentAction"),
     responses={200: "Resolved", 403: _OPERATOR, 404: "Unknown incident, or outside the supervisor's centres",
                409: "Resolved already", 422: "Reason missing, blank or too long"})
def resolve_incident(incident_id: int) -> ResponseReturnValue:
    return jsonify(incident_service.resolve(principal(), incident_id, json_body()))
