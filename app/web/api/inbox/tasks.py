from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import Bilingual, FieldError, ValidationFailed
from app.services.inbox import drafts as draft_service
from app.services.inbox import tasks as task_service
from app.web.api.blueprint import bp
from app.web.api.schemas import case_links, cursor_page_of, ref, task_links
from app.web.api.support import authenticated, bool_arg, doc, int_arg, json_body, no_content, principal

_CONFLICTS = {200: "Done: the task", 404: "Unknown or invisible task", 409: "Not open or held by someone else"}


@bp.get("/tasks")
@authenticated
@doc("Open human tasks (the inbox), in due order, with their cases' facts; search and filters", tag="tasks",
     query=("scope", "q", "category", "case_type", "level", "due_before", "overdue", "case_no", "name", "cursor",
            "page", "per_page"),
     answer=cursor_page_of("TaskItem"), links={200: task_links("/items/0/id")},
     responses={200: "A page of open tasks (`total` exact up to 1000, else 1000 with total_is_exact false)",
                403: "scope=all for supervisors only",
                422: "Unknown scope, level not 0-3, due_before not a date or instant, a cursor this "
                     "list did not give out, page or per_page not a number, overdue not a boolean"})
def list_tasks() -> ResponseReturnValue:
    level = request.args.get("level")
    return jsonify(task_service.list_tasks(
        principal(), scope=request.args.get("scope", "group"), overdue=bool_arg("overdue"),
        case_no=request.args.get("case_no"), name=request.args.get("name"), case_type=request.args.get("case_type"),
        q=request.args.get("q"),
        category=request.args.get("category"), level=None if level in (None, "") else int_arg("level", 0),
        due_before=request.args.get("due_before"), cursor=request.args.get("cursor") or None,
        page=int_arg("page", 1), per_page=int_arg("per_page", 50)))


@bp.get("/tasks/<task_id>")
@authenticated
@doc("A task with its form and prefilled data", tag="tasks", answer=ref("Task"),
     links={200: {**task_links("/id"), **case_links("/case_id")}},
     responses={200: "The task", 404: "Unknown or invisible task",
                500: "The case's stored state does not load (process-failure; an incident on the escalation "
                     "board)"})
def get_task(task_id: str) -> ResponseReturnValue:
    return jsonify(task_service.get_task(principal(), task_id))


@bp.post("/tasks/<task_id>/claim")
@authenticated
@doc("Claim a task of one of my groups", tag="tasks", answer=ref("TaskItem"), links={200: task_links("/id")},
     responses={**_CONFLICTS, 403: "Not a member of the task's group"})
def claim_task(task_id: str) -> ResponseReturnValue:
    return jsonify(task_service.claim(principal(), task_id))


@bp.post("/tasks/<task_id>/unclaim")
@authenticated
@doc("Give a claimed task back to its group", tag="tasks", answer=ref("TaskItem"), responses=_CONFLICTS)
def unclaim_task(task_id: str) -> ResponseReturnValue:
    return jsonify(task_service.unclaim(principal(), task_id))


@bp.post("/tasks/<task_id>/assign")
@authenticated
@doc("Assign a task to a member of its group (supervisors)", tag="tasks", body="Assign", answer=ref("TaskItem"),
     responses={**_CONFLICTS, 403: "Not a supervisor", 422: "Unknown user, or not a member of the task's group"})
def assign_task(task_id: str) -> ResponseReturnValue:
    username = json_body().get("username")
    if not isinstance(username, str) or not username:
        raise ValidationFailed("username is required", [FieldError("username", Bilingual("必填", "required"))])
    return jsonify(task_service.assign(principal(), task_id, username))


@bp.post("/tasks/<task_id>/complete")
@authenticated
@doc("Complete a task with its form data", tag="tasks", body="Completion", answer=ref("StepResult"),
     links={200: {**case_links("/case/id"), **task_links("/next_tasks/0/id")}},
     responses={**_CONFLICTS, 200: "Completed: the case and its open tasks now",
                403: "Not a member of the task's group", 422: "Form data invalid (per field)",
                500: "The deployed process failed on the step (process-failure); nothing of it was kept"})
def complete_task(task_id: str) -> ResponseReturnValue:
    body = json_body()
    return jsonify(task_service.complete(principal(), task_id, body.get("data", {})))


@bp.put("/tasks/<task_id>/draft")
@authenticated
@doc("Save the form as typed so far (暂存), not yet checked: GET /tasks/{task_id} prefills it, completing the "
     "task removes it", tag="tasks", body="TaskDraft",
     responses={404: _CONFLICTS[404], 409: _CONFLICTS[409], 204: "Saved (it replaces the task's earlier draft)",
                403: "May not complete the task (not a member of its group)",
                422: "data is not a JSON object, or larger than 64 KB"})
def save_task_draft(task_id: str) -> ResponseReturnValue:
    draft_service.save(principal(), task_id, json_body().get("data"))
    return no_content()
