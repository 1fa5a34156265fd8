from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.services.escalation import supervision as supervision_service
from app.services.kernel import notifications as notification_service
from app.web.api.blueprint import bp
from app.web.api.schemas import array_of, cursor_page_of, page_of, ref, task_links
from app.web.api.support import authenticated, doc, int_arg, json_body, principal

_ACTION = {200: "Done: the task", 403: "Not a supervisor", 404: "Unknown task", 409: "Not open, or not late",
           422: "Note missing, blank or too long"}


@bp.get("/escalations")
@authenticated
@doc("Tasks at warning level or above, most overdue first, and the incidents of failed steps and timers",
     tag="supervision", query=("level", "group", "case_type", "q", "category", "due_before", "cursor", "page",
                                 "per_page"),
     answer=cursor_page_of("Escalation", incidents=array_of("Incident")), links={200: task_links("/items/0/id")},
     responses={200: "A page of late tasks (`total` exact up to 1000, else 1000 with total_is_exact false), and "
                     "the unresolved incidents (at most 100, most recently seen first)",
                403: "Not a supervisor",
                422: "level not 0-3, due_before not a date or instant, a cursor this list did not "
                     "give out, page or per_page not a number"})
def list_escalations() -> ResponseReturnValue:
    return jsonify(supervision_service.list_escalations(
        principal(), level=int_arg("level", 0) or None, group=request.args.get("group"),
        case_type=request.args.get("case_type"), q=request.args.get("q"),
        category=request.args.get("category"), due_before=request.args.get("due_before"),
        cursor=request.args.get("cursor") or None, page=int_arg("page", 1), per_page=int_arg("per_page", 50)))


@bp.post("/tasks/<task_id>/urge")
@authenticated
@doc("Urge (催办) a late task with a note the handler sees", tag="supervision", body="Note", answer=ref("TaskItem"),
     responses=_ACTION)
def urge_task(task_id: str) -> ResponseReturnValue:
    return jsonify(supervision_service.urge(principal(), task_id, json_body().get("note")))


@bp.post("/tasks/<task_id>/list")
@authenticated
@doc("List a task for supervision (挂牌督办)", tag="supervision", body="Note", answer=ref("TaskItem"),
     responses={**_ACTION, 409: "Not open, or listed already"})
def list_task(task_id: str) -> ResponseReturnValue:
    return jsonify(supervision_service.list_for_supervision(principal(), task_id, json_body().get("note")))


@bp.get("/notifications")
@authenticated
@doc("Reminders, urges and listings for me and my groups, newest first", tag="supervision",
     query=("page", "per_page"), answer=page_of("Notification"),
     responses={200: "A page of notifications", 422: "page or per_page not a number"})
def list_notifications() -> ResponseReturnValue:
    return jsonify(notification_service.list_for(principal(), page=int_arg("page", 1),
                                                 per_page=int_arg("per_page", 50)))


@bp.post("/notifications/<int:notification_id>/read")
@authenticated
@doc("Mark a notification read (for me; a note to my group stays unread for its other members)",
     tag="supervision", answer=ref("Notification"),
     responses={200: "The notification, read", 404: "Unknown, or not addressed to me or my groups"})
def read_notification(notification_id: int) -> ResponseReturnValue:
    return jsonify(notification_service.mark_read(principal(), notification_id))
