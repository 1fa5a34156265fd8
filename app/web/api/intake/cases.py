from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.services.intake import cases as case_service
from app.services.intake import comments as comment_service
from app.services.intake import messages as message_service
from app.web.api.blueprint import bp
from app.web.api.schemas import array_of, case_links, page_of, ref, task_links
from app.web.api.support import authenticated, bool_arg, created, doc, int_arg, json_body, principal


@bp.post("/cases")
@authenticated
@doc("Register a case and start its route", tag="cases", body="CaseRegistration",
     answer={201: ref("CaseStarted"), 200: ref("CaseSummary")},
     links={201: {**case_links("/id"), **task_links("/active_tasks/0/id")}, 200: case_links("/id")},
     responses={201: "Registered", 200: "Already registered (same source and external_id): the case as the caller "
                                        "may see it", 403: "Not an intake or integration account",
                422: "Invalid case (the fields of the registration form, or received_at)",
                500: "The deployed process failed at its start (process-failure); nothing was registered"})
def register_case() -> ResponseReturnValue:
    case, is_new = case_service.register(principal(), json_body())
    return created(case) if is_new else (jsonify(case), 200)


@bp.get("/cases")
@authenticated
@doc("Cases the caller may see, newest first", tag="cases", answer=page_of("CaseSummary"),
     links={200: case_links("/items/0/id")},
     query=("status", "category", "source", "procedure", "case_type", "q", "overdue", "page", "per_page"),
     responses={200: "A page of cases", 422: "page or per_page not a number, overdue not a boolean"})
def list_cases() -> ResponseReturnValue:
    args = request.args
    return jsonify(case_service.list_cases(
        principal(), status=args.get("status"), category=args.get("category"), source=args.get("source"),
        procedure=args.get("procedure"), case_type=args.get("case_type"), q=args.get("q"), overdue=bool_arg("overdue"),
        page=int_arg("page", 1), per_page=int_arg("per_page", 50)))


@bp.get("/case-types")
@authenticated
@doc("Case types: every deployed process whose start event names a form, at its latest version",
     tag="cases", answer=array_of("CaseType"), responses={200: "The case types, dispute_case first"})
def list_case_types() -> ResponseReturnValue:
    return jsonify(case_service.list_case_types())


@bp.get("/cases/<int:case_id>")
@authenticated
@doc("One case with parties, open tasks and timeline", tag="cases", answer=ref("Case"),
     links={200: task_links("/active_tasks/0/id")},
     responses={200: "The case", 404: "Unknown or invisible case"})
def get_case(case_id: int) -> ResponseReturnValue:
    return jsonify(case_service.get_case(principal(), case_id))


@bp.post("/cases/<int:case_id>/comments")
@authenticated
@doc("Comment on a case: the comment goes on its timeline (action case.commented)", tag="cases",
     body="NewComment", answer={201: ref("Comment")}, links={201: case_links("/case_id")},
     responses={201: "Added", 404: "Unknown or invisible case",
                422: "text missing, only spaces, or longer than 2000 characters"})
def add_case_comment(case_id: int) -> ResponseReturnValue:
    return created(comment_service.add(principal(), case_id, json_body().get("text")))


@bp.post("/messages")
@authenticated
@doc("Deliver an external message (court ruling, arbitration award) to the case waiting for it",
     tag="messages", body="Message", answer=ref("StepResult"),
     links={200: {**case_links("/case/id"), **task_links("/next_tasks/0/id")}},
     responses={200: "Delivered: the case and its open tasks now", 403: "Not allowed to send messages",
                404: "Unknown case or nothing waits", 409: "The same document was already delivered",
                422: "Unknown message or invalid payload",
                500: "The deployed process failed on the message (process-failure); nothing was kept"})
def deliver_message() -> ResponseReturnValue:
    return jsonify(message_service.deliver(principal(), json_body()))
