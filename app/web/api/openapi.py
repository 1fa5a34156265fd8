"""The OpenAPI 3.1 document, generated from the registered routes and their @doc notes.

Besides what each view's @doc says, every operation gets the statuses its kind can answer: 400 (a NUL
character in the query string, and for bodies malformed JSON), 401 without a valid token, 403 for a login
whose password an administrator reset (it may only change it, or log out), 404 for unknown ids in the
path, 411/413 for bodies without a length or too large, 415 for JSON bodies declared as something else,
503 with Retry-After while the database is unavailable (all but this document).
The suite checks the document against the live application with schemathesis (tests/api/test_contract.py).
"""
from __future__ import annotations

import copy
import re
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from app.errors import NotFound
from app.services.inbox.tasks import SCOPES
from app.services.intake import cases as case_service
from app.services.operations.listing import STATES as INSTANCE_STATES
from app.services.reports.charts import METRICS
from app.services.reports.summary import GROUPINGS
from app.web.api.blueprint import bp
from app.web.api.schemas import MULTIPART, NOT_ONLY_SPACES, REQUESTS, RESPONSES, RETRY_AFTER, Schema, ref
from app.web.api.support import OPERATIONS, WHILE_PASSWORD_RESET, doc

_PROBLEM = {"application/problem+json": {"schema": ref("Problem")}}
# Reports cover the years 2000 to 2100 (app.services.reports.summary.in_range).
_YEAR = "(20[0-9]{2}|2100)"
_DAY = {"type": "string", "format": "date", "pattern": f"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"}
_TEXT = {"type": "string"}
_FLAG = {"type": "boolean", "description": "true or false (also 1/0, yes/no)"}

# Query parameters by name: (schema, description).
QUERY: dict[str, tuple[Schema, str]] = {
    "page": ({"type": "integer"}, "page number, from 1 (values below 1 count as 1)"),
    "per_page": ({"type": "integer"}, "items per page, 50 when absent; at most 200 (larger values count as 200, "
                                      "values below 1 as 1)"),
    "overdue": (_FLAG, "only items past their due time (true) or only those not (false)"),
    "compare": (_FLAG, "also the previous period of the same length"),
    "scope": ({"type": "string", "enum": list(SCOPES)},
              "mine: assigned to me; group (default): open in my groups; all: supervisors and admin"),
    "level": ({"type": "integer", "minimum": 0, "maximum": 3},
              "escalation level, 0 on time, 1 warning, 2 overdue, 3 listed: on the inbox exactly that level; on the "
              "escalation board the lowest shown (0 or absent: 1)"),
    "cursor": (_TEXT, "a page's next_cursor or prev_cursor: the page after or before it (page is then ignored); "
                      "reading on by cursor neither repeats nor skips a task while tasks come and go"),
    "due_before": ({"anyOf": [_DAY, {"type": "string", "format": "date-time", "pattern": f"^{_YEAR}-"}]},
                   "only tasks due before this instant (with its offset), or before the start of this day in the "
                   "centre's time zone"),
    "group": (_TEXT, "a handling group (lane)"),
    "case_no": (_TEXT, "a case number"),
    "phone": (_TEXT, "the phone an applicant gave at registration (separators and a +86 prefix do not matter)"),
    "name": (_TEXT, "a task's BPMN id (dispatch, handle, ...)"),
    "q": (_TEXT, "text to look for: in the case number, title or description (cases); the start of a case number "
                 "or work-order number (external_id), a fragment of the case's title, or — for those who may see "
                 "the parties' data — a party's exact name or phone (tasks and the escalation board); in the "
                 "username or name (users)"),
    "status": (_TEXT, "a case status"),
    "category": (_TEXT, "a category code"),
    "source": (_TEXT, "a source channel"),
    "case_type": (_TEXT, "a case type's key (GET /case-types)"),
    "procedure": (_TEXT, "a procedure (mediation, arbitration, litigation, ...)"),
    "from": (_DAY, "first day, inclusive (default: the period ending on `to`)"),
    "to": (_DAY, "last day, inclusive (default: today); a period spans at most 3 years (the weekly analysis "
                 "93 days) and `from` is not after `to`"),
    "date": (_DAY, "the day (default: today)"),
    "revision": ({"type": "integer", "minimum": 1}, "the draft revision the editor loaded (or If-Match); a "
                                                    "later one answers 409"),
    "month": ({"type": "string", "pattern": f"^{_YEAR}-(0[1-9]|1[0-2])$"},
              "YYYY-MM (default: the last complete month)"),
    "group_by": ({"type": "string", "enum": list(GROUPINGS)}, "figures per category, group, source, grid or case type"),
    "metric": ({"type": "string", "enum": list(METRICS)}, "the figure to chart (default received)"),
    "process_key": (_TEXT, "a process's key (dispute_case)"),
    "version": ({"type": "integer"}, "a deployed version of the process"),
    "state": ({"type": "string", "enum": list(INSTANCE_STATES)}, "the instance's state"),
    "waiting_at": (_TEXT, "a BPMN id of a human task: only instances with that task open"),
    "incident": (_FLAG, "only instances with (true) or without (false) an unresolved incident"),
}
# Parameters whose empty value (?to=, as an HTML form sends an empty field) counts as absent; the others take
# it as it is (an empty scope is unknown, an empty text filter matches nothing or everything as it says).
_EMPTY_IS_ABSENT = ("page", "per_page", "overdue", "compare", "level", "from", "to", "date", "month", "group_by",
                    "metric", "cursor", "due_before", "version", "state", "incident", "process_key",
                    "waiting_at")
_MUST_CHANGE = "a login whose password an administrator reset, until it changes it (POST /auth/password)"
# Path parameters by converter; a view's @doc(path=...) adds to these.
_CONVERTERS: dict[str, Schema] = {"int": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}


def _registration_schema() -> Schema:
    """The registration form as deployed (the one registrations are validated against)."""
    try:
        schema = copy.deepcopy(case_service.registration_form()["schema"])
    except NotFound:  # nothing deployed yet
        return {"type": "object"}
    schema.pop("$schema", None)
    _refuse_blank_texts(schema)
    # Beside the form's fields, a feed may send the work order's reception time (app.services.intake.cases).
    schema.setdefault("properties", {})["case_type"] = {
        "type": "string", "enum": ["dispute_case"],
        "description": "the case type (default dispute_case). This schema is dispute_case's start form; another "
                       "type (GET /case-types) takes the fields of its own start form, and an unknown one is 422"}
    schema["properties"]["received_at"] = {
        "type": "string", "format": "date-time",
        "pattern": "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
        "description": "integration accounts only: when the source system received the work order, "
                       "with an offset (2026-11-30T17:45:00+08:00), not in the future nor before 2000"}
    return schema


def _refuse_blank_texts(schema: Any) -> None:
    """A required text (minLength 1 or more) is not filled by spaces alone (app.forms.validation)."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and schema.get("minLength", 0) >= 1 and not (
                {"pattern", "enum", "const", "format"} & set(schema)):
            schema["pattern"] = NOT_ONLY_SPACES
        for value in schema.values():
            _refuse_blank_texts(value)
    elif isinstance(schema, list):
        for value in schema:
            _refuse_blank_texts(value)


def _parameters(rule: str, note: dict[str, Any]) -> list[Schema]:
    parameters = []
    for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule):
        schema = {**_CONVERTERS.get(converter, _TEXT), **note["path"].get(name, {})}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    for name in note["query"]:
        schema, description = QUERY[name]
        parameter = {"name": name, "in": "query", "required": False, "schema": copy.deepcopy(schema),
                     "description": description}
        if name in _EMPTY_IS_ABSENT:
            parameter["allowEmptyValue"] = True
        parameters.append(parameter)
    return parameters


def _problem(note: dict[str, Any], code: int, description: str) -> Schema:
    problem: Schema = {"description": description, "content": copy.deepcopy(_PROBLEM)}
    if code in note["headers"]:
        problem["headers"] = note["headers"][code]
    return problem


def _answers(note: dict[str, Any]) -> dict[int, Schema]:
    """A view's answer schema by status: `answer` is one schema for every success, or a schema per status."""
    answer = note["answer"]
    if answer and all(isinstance(code, int) for code in answer):
        return dict(answer)
    return {code: answer if answer is not None else {"type": "object"} for code in note["responses"] if code < 400}


def _success(note: dict[str, Any], code: int, description: str) -> Schema:
    if code == 204:
        return {"description": description}
    schema = _answers(note)[code]
    response: Schema = {"description": description,
                        "content": {media: {"schema": schema if "json" in media else {"type": "string"}}
                                    for media in note["media"]}}
    if note["download"]:
        response["headers"] = {"Content-Disposition": {"required": True, "schema": {"type": "string"},
                                                       "description": "attachment; filename=..."}}
    if code in note["links"]:
        response["links"] = note["links"][code]
    if code in note["headers"]:
        response.setdefault("headers", {}).update(note["headers"][code])
    return response


def _operation(endpoint: str, method: str, rule: str) -> Schema:
    note = OPERATIONS.get(endpoint, {"summary": endpoint, "tag": "misc", "responses": {200: "OK"}, "body": None,
                                     "public": False, "query": (), "answer": None, "media": ("application/json",),
                                     "path": {}, "links": {}, "download": False, "headers": {}})
    op: Schema = {"operationId": endpoint.split(".")[-1], "summary": note["summary"], "tags": [note["tag"]]}
    parameters = _parameters(rule, note)
    if parameters:
        op["parameters"] = parameters
    body = note["body"] if method in ("post", "put", "patch") else None
    statuses = dict(note["responses"])
    statuses.setdefault(400, "Malformed request: a NUL character in the query string" + (
        "; malformed JSON (NaN, thousands of digits or levels, unpaired surrogates, NUL characters)"
        if body and body not in MULTIPART else "; no files" if body else ""))
    if not note["public"]:
        statuses.setdefault(401, "Missing, invalid, expired or logged-out token")
        if endpoint not in WHILE_PASSWORD_RESET:  # what a login may do until it changes a reset password
            statuses[403] = f"{statuses[403]}; or {_MUST_CHANGE}" if 403 in statuses else f"A{_MUST_CHANGE[1:]}"
    if "<" in rule:
        statuses.setdefault(404, "Unknown (or invisible to the caller)")
    if note["tag"] != "meta":  # everything but this document asks the database
        statuses.setdefault(503, "The database is unreachable or not answering: retry after Retry-After seconds")
        note = {**note, "headers": {503: {"Retry-After": RETRY_AFTER}, **note["headers"]}}
    if body:
        statuses.setdefault(411, "A chunked body without Content-Length")
        statuses.setdefault(413, "The body is larger than CONCORD_MAX_BODY_BYTES")
        media = "multipart/form-data" if body in MULTIPART else "application/json"
        if media == "application/json":
            statuses.setdefault(415, "The body is not declared as JSON")
        op["requestBody"] = {"required": True, "content": {media: {"schema": ref(body)}}}
    answers = _answers(note)
    op["responses"] = {str(code): _success(note, code, text) if code in answers else _problem(note, code, text)
                       for code, text in sorted(statuses.items())}
    if not note["public"]:
        op["security"] = [{"bearer": []}]
    return op


@bp.get("/openapi.json")
@doc("This document", tag="meta", public=True, answer={"type": "object", "required": ["openapi", "paths"]})
def openapi() -> ResponseReturnValue:
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, method.lower(), rule.rule)
    schemas = dict(RESPONSES, **REQUESTS, CaseRegistration=_registration_schema())
    return jsonify({
        "openapi": "3.1.0",
        "info": {"title": "Concord API", "version": "1.0.0",
                 "description": "综治中心矛盾纠纷闭环流转平台 — case workflow API"},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
