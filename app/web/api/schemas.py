"""JSON Schemas of what the API answers and accepts, for the OpenAPI document (components/schemas).

They describe the dictionaries the services return (app.services.kernel.present and the others) as the
views pass them on. Objects list every field they always carry under `required`; they stay open to new
fields, which extend the contract without breaking it (shared/design/api.md).
"""
from __future__ import annotations

from typing import Any

from app.services.accounts.auth import KEY_PREFIX, MIN_PASSWORD
from app.services.accounts.organisation import KEY
from app.services.accounts.users import USERNAME
from app.services.escalation.supervision import MAX_NOTE
from app.services.intake.comments import MAX_COMMENT
from app.services.kernel import incidents
from app.services.kernel.directory import GROUP_KINDS
from app.services.kernel.principals import ROLES
from app.services.operations.common import MAX_REASON
from app.services.operations.listing import STATES as INSTANCE_STATES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array_of(name: str) -> Schema:
    return {"type": "array", "items": ref(name)}


def page_of(name: str, **extra: Schema) -> Schema:
    """The list shape of every paged collection: {"items", "total", "page", "per_page"}."""
    return {"type": "object", "required": ["items", "total", "page", "per_page", *extra],
            "properties": {"items": array_of(name), "total": {"type": "integer", "minimum": 0},
                           "page": {"type": "integer", "minimum": 1},
                           "per_page": {"type": "integer", "minimum": 1, "maximum": 200}, **extra}}


def cursor_page_of(name: str, **extra: Schema) -> Schema:
    """A list read by page number or by cursor (app.services.kernel.keyset): `total` counts at most 1000
    rows; a longer list says 1000 with `total_is_exact` false ("more than 1000")."""
    return {"type": "object",
            "required": ["items", "total", "page", "per_page", "total_is_exact", "next_cursor", "prev_cursor", *extra],
            "properties": {
                "items": array_of(name),
                "total": {"type": "integer", "minimum": 0, "maximum": 1000,
                          "description": "the list's length when total_is_exact; otherwise 1000: more than that"},
                "total_is_exact": BOOL,
                "page": {"type": ["integer", "null"], "minimum": 1,
                         "description": "the page number asked for; null on a page read by cursor"},
                "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
                "next_cursor": {"type": ["string", "null"], "description": "`cursor` for the next page; null on "
                                                                          "the last"},
                "prev_cursor": {"type": ["string", "null"], "description": "`cursor` for the page before; null "
                                                                          "on the first"},
                **extra}}


def link(operation: str, **parameters: str) -> Schema:
    """An OpenAPI link: the operation an answer leads to, its parameters as runtime expressions
    ($response.body#/id, $request.path.key)."""
    return {"operationId": operation, "parameters": parameters}


def task_links(pointer: str) -> dict[str, Schema]:
    """What can be done with the task whose id is at `pointer` in the answer."""
    task = f"$response.body#{pointer}"
    return {"GetTask": link("get_task", task_id=task), "ClaimTask": link("claim_task", task_id=task),
            "UnclaimTask": link("unclaim_task", task_id=task), "CompleteTask": link("complete_task", task_id=task),
            "AssignTask": link("assign_task", task_id=task), "UrgeTask": link("urge_task", task_id=task),
            "ListTask": link("list_task", task_id=task)}


def case_links(pointer: str) -> dict[str, Schema]:
    case = f"$response.body#{pointer}"
    return {"GetCase": link("get_case", case_id=case), "CaseDiagram": link("case_diagram", case_id=case)}


def version_links(key: str, version: str) -> dict[str, Schema]:
    """The files and the diagram of the version whose key and number are at these expressions."""
    return {name: link(operation, key=key, version=version) for name, operation in (
        ("ListResources", "list_resources"), ("ResourcesZip", "get_resources_zip"),
        ("DefinitionDiagram", "definition_diagram"))}


# The header of a 503 while the database is unavailable (app.web.problems.retry_after).
RETRY_AFTER: Schema = {"required": True, "description": "seconds to wait before retrying "
                                                        "(CONCORD_DB_RETRY_AFTER_SECONDS)",
                       "schema": {"type": "integer", "minimum": 0}}


def _object(properties: dict[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    return {"type": "object", "required": [name for name in properties if name not in optional],
            "properties": properties}


def _nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


# A character Python's str.isspace() does not count as a space: a text of only spaces fills no required field
# (app.forms.validation) and is no note (app.services.escalation.supervision).
NOT_ONLY_SPACES = "[^\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
# One it does count (str.strip() trims these): the administration checks names by their trimmed length.
SPACE = "[\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
TEXT: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOL: Schema = {"type": "boolean"}
INSTANT: Schema = {"type": "string", "format": "date-time",
                   "description": "ISO 8601 with the centre's offset (2026-12-01T09:30:00+08:00)"}
DAY: Schema = {"type": "string", "format": "date"}
RATE: Schema = {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                "description": "between 0 and 1; null when its denominator is 0"}
ANY_OBJECT: Schema = {"type": "object"}
LEVEL: Schema = {"type": "integer", "minimum": 0, "maximum": 3,
                 "description": "0 on time, 1 warning, 2 overdue, 3 listed for supervision (挂牌督办)"}

COUNTS = ("received", "closed", "resolved", "closed_on_time", "open", "overdue_open", "mediated", "agreements",
          "feedback_visits", "satisfied")
RATES = ("closure_rate", "on_time_rate", "resolution_rate", "mediation_success_rate", "satisfaction_rate")
_FIGURES = {**{name: COUNT for name in COUNTS}, **{name: RATE for name in RATES}}
_GROUP_KEY = {"type": ["string", "null"], "description": "the group's key; null for cases without one"}

_TASK_ITEM = {
    "id": {**TEXT, "description": "the task's own id (a UUID)"}, "name": {**TEXT, "description": "its BPMN id"},
    "title": TEXT, "case_id": INT, "case_no": TEXT,
    "case_type": {**TEXT, "description": "the key of the case's type (GET /case-types)"},
    "group": _nullable(TEXT), "assignee": _nullable(TEXT),
    "state": {"type": "string", "enum": ["open", "completed", "cancelled"]}, "created_at": INSTANT,
    "due_at": _nullable(INSTANT), "due_provisional": BOOL, "completed_at": _nullable(INSTANT),
    "escalation_level": LEVEL, "form_key": _nullable(TEXT),
    # the case's facts: on the inbox's and the board's items and on a task opened on its own
    "case_title": TEXT, "category": _nullable(TEXT), "urgency": TEXT, "source": TEXT,
    "external_id": {**_nullable(TEXT), "description": "the source system's work-order number (GD2026...)"}}
_CASE_FACTS = ("case_title", "category", "urgency", "source", "external_id")

_CASE_SUMMARY = {
    "id": INT, "case_no": TEXT, "case_type": {**TEXT, "description": "the key of its type (GET /case-types)"},
    "title": TEXT, "source": TEXT, "external_id": _nullable(TEXT),
    "category": _nullable(TEXT), "urgency": TEXT, "status": TEXT, "procedure": _nullable(TEXT),
    "procedure_since": _nullable(INSTANT), "handling_group": _nullable(TEXT), "outcome": _nullable(TEXT),
    "received_at": INSTANT, "created_at": INSTANT, "closed_at": _nullable(INSTANT)}

_PARTY = _object({"name": TEXT, "role": TEXT,
                  "phone": {**_nullable(TEXT), "description": "masked (138****8000) unless the caller handles "
                                                              "the case"},
                  "id_number": {**_nullable(TEXT), "description": "masked likewise"}})

_DRAFT = {"id": INT, "title": TEXT, "based_on": _nullable(TEXT), "revision": {"type": "integer", "minimum": 1},
          "created_at": INSTANT, "updated_at": INSTANT, "file_names": {"type": "array", "items": TEXT}}
_DEFINITION = {"key": TEXT, "version": {"type": "integer", "minimum": 1}, "name": TEXT, "deployed_at": INSTANT,
               "deployed_by": TEXT, "is_latest": BOOL}



def trimmed(limit: int) -> Schema:
    """A text of 1 to `limit` characters once the spaces around it are trimmed (any number of them may
    surround it), as the administration stores names."""
    solid = NOT_ONLY_SPACES
    return {"type": "string", "pattern": f"^{SPACE}*{solid}([\\s\\S]{{0,{limit - 2}}}{solid})?{SPACE}*$",
            "description": f"1 to {limit} characters, not counting spaces around them (which are trimmed)"}


_DIRECTORY_KEY = {"type": "string", "pattern": KEY.pattern,
                  "description": "2-40 lowercase letters, digits or _, starting with a letter"}
_KIND = {"type": "string", "enum": list(GROUP_KINDS)}
_ROLES = {"type": "array", "items": {"type": "string", "enum": list(ROLES)}}
_GROUP_KEYS = {"type": "array", "items": TEXT, "description": "keys of existing groups"}
_NEW_PASSWORD = {"type": "string", "minLength": MIN_PASSWORD,
                 "description": f"at least {MIN_PASSWORD} characters, not the username"}
_KEY_FIELDS = {"id": INT, "name": TEXT, "source": TEXT}

_PROBLEM_LOCATION = _object({"file": _nullable(TEXT), "line": _nullable(INT), "element_id": _nullable(TEXT),
                             "message": TEXT})

_REASON: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_REASON, "pattern": NOT_ONLY_SPACES,
                   "description": "why (on the case's timeline)"}
_VERSION: Schema = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1,
                    "description": "the instance version the caller saw (instance_version): 409 when it moved since"}
_ELEMENT: Schema = {"type": "string", "minLength": 1, "pattern": NOT_ONLY_SPACES}
_POSITIVE: Schema = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
_INSTANCE_STATE: Schema = {"type": "string", "enum": list(INSTANCE_STATES)}

_ATTACHMENT = _object({"id": INT, "name": TEXT, "size": COUNT, "media_type": TEXT,
                       "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                       "uploaded_by": TEXT, "uploaded_at": INSTANT})

RESPONSES: dict[str, Schema] = {
    "Problem": {
        "type": "object", "required": ["type", "title", "status", "detail"],
        "description": "RFC 9457 problem details",
        "properties": {
            "type": {"type": "string", "format": "uri"}, "title": TEXT,
            "status": {"type": "integer", "minimum": 400, "maximum": 599}, "detail": TEXT,
            "errors": {"type": "array", "description": "per field (422) or per file location (process-invalid)",
                       "items": {"anyOf": [ref("FieldError"), ref("ProblemLocation")]}},
            "element": {**TEXT, "description": "process-failure: the BPMN element (or the process state) the "
                                               "process failed at"},
            "incident": {**INT, "description": "process-failure: the incident recorded for it"}}},
    "FieldError": _object({"field": {**TEXT, "description": "path of the field: parties[0].phone"},
                           "message": TEXT}),
    "ProblemLocation": _PROBLEM_LOCATION,
    "User": _object({"username": TEXT, "display_name": TEXT, "roles": {"type": "array", "items": TEXT},
                     "groups": {"type": "array", "items": TEXT}}),
    "LoggedIn": _object({"token": TEXT, "user": ref("User"),
                         "must_change_password": {**BOOL, "description": "after an administrator's reset: this "
                                                                          "login may only change the password"}}),
    "PasswordChanged": _object({"changed": {"const": True}}),
    "Centre": _object({"key": TEXT, "name": TEXT, "parent": {**_nullable(TEXT), "description": "null for a root"}}),
    "Group": _object({"key": TEXT, "name": TEXT, "name_en": _nullable(TEXT), "kind": _KIND,
                      "centre": {**TEXT, "description": "the centre's key"}}),
    "Account": _object({"username": TEXT, "display_name": TEXT, "roles": _ROLES,
                        "groups": {"type": "array", "items": TEXT}, "active": BOOL, "must_change_password": BOOL}),
    "IntegrationKey": _object({**_KEY_FIELDS, "created_by": TEXT, "created_at": INSTANT,
                               "revoked_at": _nullable(INSTANT)}),
    "IssuedKey": _object({**_KEY_FIELDS, "key": {"type": "string", "pattern": f"^{KEY_PREFIX}",
                                                 "description": "the key itself, shown this once"}}),
    "Health": _object({"status": {"type": "string", "enum": ["ok", "degraded"]},
                       "database": {"type": "string", "enum": ["ok", "unavailable"]},
                       "scheduler": {"type": "string", "enum": ["running", "stopped"]}, "version": TEXT}),
    "PublicProgress": _object({
        "case_no": TEXT,
        "status": {**TEXT, "description": "the case's status by its name, in the language of Accept-Language"},
        "milestones": {"type": "array", "description": "the public steps so far, oldest first: registration, "
                                                     "assignment, handling, follow-up, closing, ...",
                       "items": _object({"at": INSTANT, "title": TEXT})}}),
    "TaskItem": _object(_TASK_ITEM, _CASE_FACTS),
    "CaseType": _object({
        "key": {**TEXT, "description": "the process key; POST /cases takes it as case_type"},
        "name": {**TEXT, "description": "the process's name, what people read"},
        "version": {"type": "integer", "minimum": 1, "description": "the latest deployed version"},
        "form": {**_object({"key": TEXT, "schema": ANY_OBJECT, "ui_schema": ANY_OBJECT}),
                 "description": "the start form a registration of this type fills"}}),
    "Task": _object({**_TASK_ITEM,
                     "form": {"oneOf": [{"type": "null"},
                                        _object({"key": TEXT, "schema": ANY_OBJECT, "ui_schema": ANY_OBJECT})],
                              "description": "the task's form, its choices narrowed to what the case allows"},
                     "data": {**ANY_OBJECT, "description": "prefilled values of the form's fields: the saved "
                                                           "draft over the form's suggestions"},
                     "draft": {"oneOf": [{"type": "null"}, _object({"saved_by": TEXT, "saved_at": INSTANT})],
                               "description": "who saved the draft (暂存) in `data`, and when; null without one"},
                     "case": _object({
                         "id": INT, "case_no": TEXT, "title": TEXT, "description": TEXT, "request": _nullable(TEXT),
                         "external_id": _nullable(TEXT), "status": TEXT, "amount": {"type": ["number", "null"]},
                         "amount_text": {**_nullable(TEXT), "description": "the amount as money (3,600.00 元)"},
                         "location": _object({"grid": _nullable(TEXT), "address": _nullable(TEXT)}),
                         "received_at": INSTANT, "parties": {"type": "array", "items": _PARTY},
                         "personal_data_masked": BOOL, "attachments": {"type": "array", "items": _ATTACHMENT},
                         **{f"{code}{end}": _nullable(TEXT) for code in ("category", "urgency", "source", "risk_level")
                            for end in ("", "_name")}}),
                     "history": {"type": "array", "description": "the case's completed steps, oldest first",
                                 "items": _object({
                                     "task": TEXT, "title": TEXT, "actor": TEXT, "actor_name": TEXT, "at": INSTANT,
                                     "values": {"type": "array", "items": _object({
                                         "field": TEXT, "label": {**TEXT, "description": "the form's label"},
                                         "value": {"description": "as recorded"},
                                         "text": {**TEXT, "description": "as people read it: names, not codes"}})}})},
                     "urges": {**array_of("Notification"), "description": "supervisors' urges of this task"}}),
    "Escalation": _object({**_TASK_ITEM, "overdue_seconds": COUNT}, _CASE_FACTS),
    "Incident": _object({
        "id": INT,
        "kind": {**TEXT, "description": "step, or for a timer the timer's kind (engine, warning, overdue, listed)"},
        "incident_kind": {"type": "string", "enum": [incidents.STEP, incidents.TIMER]},
        "timer": {**_nullable(INT), "description": "the timer's id (timer incidents)"}, "task_id": _nullable(TEXT),
        "name": {**TEXT, "description": "the timer's BPMN id for a timer, else the element"},
        "element": {**TEXT, "description": "where it failed: a BPMN id, or the process state"},
        "element_name": _nullable(TEXT), "operation": {"type": "string", "enum": [
            incidents.REGISTER, incidents.COMPLETE, incidents.MESSAGE, incidents.OPEN, incidents.DIAGRAM,
            incidents.FIRE, incidents.MOVE, incidents.MIGRATE]},
        "case_id": {**_nullable(INT), "description": "null for a registration that failed"},
        "case_no": _nullable(TEXT), "attempts": {**COUNT, "description": "a timer's attempts; a step's occurrences"},
        "occurrences": {"type": "integer", "minimum": 1}, "error": TEXT, "created_at": INSTANT,
        "last_seen_at": INSTANT}),
    "CaseSummary": _object(_CASE_SUMMARY),
    "ProcessInstance": _object({
        "id": INT, "case_id": INT, "case_no": TEXT, "process_key": TEXT, "version": INT, "state": _INSTANCE_STATE,
        "waiting_at": {"type": "array", "items": TEXT, "description": "BPMN ids of its open human tasks"},
        "waiting_titles": {"type": "array", "items": TEXT,
                           "description": "the same tasks' titles, as people read them (in the same order)"},
        "started_at": INSTANT, "suspended_at": _nullable(INSTANT), "incident": BOOL,
        "instance_version": {**INT, "description": "send it back as `version` to act only on what you saw"}}),
    "CaseOperation": _object({"case_id": INT, "case_no": TEXT, "status": TEXT, "process_instance_id": INT,
                              "version": INT, "at": INSTANT}),
    "Incidents": _object({"items": array_of("Incident")}),
    "IncidentAction": _object({"id": INT, "resolved": BOOL, "retried": BOOL}),
    "MigrationReport": _object({
        "instances": COUNT, "migrable": COUNT, "migrated": COUNT, "dry_run": BOOL,
        "problems": {"type": "array", "items": _object({"instance_id": INT, "element_id": _nullable(TEXT),
                                                        "message": TEXT})}}),
    "Attachment": _ATTACHMENT,
    "CaseStarted": _object({**_CASE_SUMMARY, "process_instance_id": INT, "active_tasks": array_of("TaskItem")}),
    "Case": _object({
        **_CASE_SUMMARY, "description": TEXT, "request": _nullable(TEXT), "risk_level": _nullable(TEXT),
        "amount": {"type": ["number", "null"]},
        "location": _object({"grid": _nullable(TEXT), "address": _nullable(TEXT)}),
        "willing_to_mediate": _nullable(BOOL), "complexity": _nullable(TEXT), "satisfied": _nullable(BOOL),
        "reopen_count": COUNT, "created_by": TEXT, "updated_at": INSTANT, "process_instance_id": _nullable(INT),
        "parties": {"type": "array", "items": _PARTY}, "personal_data_masked": BOOL,
        "active_tasks": array_of("TaskItem"),
        "possible_duplicates": {"type": "array", "items": _object({
            "case_id": INT, "case_no": TEXT, "status": TEXT, "created_at": INSTANT, "matched_on": TEXT})},
        "attachments": {"type": "array", "items": _ATTACHMENT},
        "timeline": {"type": "array", "items": _object({"at": INSTANT, "actor": TEXT, "action": TEXT,
                                                         "detail": ANY_OBJECT})}}),
    "StepResult": _object({"case": {"allOf": [ref("CaseSummary")],
                                    "properties": {"process_instance_id": INT}, "required": ["process_instance_id"]},
                           "next_tasks": array_of("TaskItem")}),
    "Comment": _object({"id": INT, "case_id": INT, "text": TEXT, "author": TEXT, "created_at": INSTANT}),
    "Notification": _object({"id": INT, "kind": TEXT, "message": TEXT, "case_id": _nullable(INT),
                             "case_no": _nullable(TEXT), "task_id": _nullable(TEXT), "recipient": _nullable(TEXT),
                             "group": _nullable(TEXT), "created_by": TEXT, "created_at": INSTANT,
                             "read": {**BOOL, "description": "read by me"}}),
    "Definition": _object(_DEFINITION),
    "Deployed": _object({"definitions": array_of("Definition"), "warnings": array_of("ProblemLocation"),
                         "dry_run": {"oneOf": [{"type": "null"}, ref("DryRun")]}},
                        optional=("warnings", "dry_run")),
    "DryRun": _object({
        "paths": {**COUNT, "description": "paths walked (each ends completed, failed, stuck or at a bound)"},
        "problems": {**array_of("ProblemLocation"), "description": "expressions that raise on a reachable "
                                                                   "path: errors, the deployment is refused"},
        "warnings": {**array_of("ProblemLocation"), "description": "elements no path reaches, user tasks "
                                                                   "without a time limit"},
        "coverage": _object({"elements": {"type": "array", "items": TEXT, "description": "process:element"},
                             "reached": {"type": "array", "items": TEXT}}),
        "processes": {"type": "array", "items": _object({"key": TEXT, "paths": COUNT, "steps": COUNT,
                                                         "truncated": BOOL, "elements": COUNT, "reached": COUNT})},
        "seconds": {"type": "number"}}),
    "DefinitionFile": _object({"name": TEXT, "size": COUNT, "media_type": TEXT}),
    "DraftSummary": _object(_DRAFT),
    "Draft": _object({**_DRAFT, "files": {"type": "object", "additionalProperties": TEXT,
                                          "description": "file name -> text"}}),
    "TextChecked": _object({"ok": BOOL, "message": _nullable(TEXT)}),
    "ValidationReport": _object({"valid": BOOL, "errors": array_of("ProblemLocation"),
                                 "warnings": array_of("ProblemLocation"),
                                 "dry_run": {"oneOf": [{"type": "null"}, ref("DryRun")],
                                             "description": "null when the files have errors before the walk"}},
                                optional=("dry_run",)),
    "Figures": _object(_FIGURES),
    "GroupFigures": _object({"key": _GROUP_KEY, **_FIGURES}),
    "SummaryReport": _object({"from": DAY, "to": DAY, "group_by": _nullable(TEXT), "total": ref("Figures"),
                              "items": array_of("GroupFigures"),
                              "previous": {**ref("SummaryReport"), "description": "with compare=true"}},
                             optional=("previous",)),
    "DailyReport": _object({"date": DAY, **{name: _object({"total": COUNT, "items": array_of(item)}) for name, item in
                                            (("new", "CaseSummary"), ("due_today", "TaskItem"),
                                             ("overdue", "Escalation"))}}),
    "Change": {"type": "object", "description": "this period against the previous one",
               "required": ["received", "received_ratio"],
               "properties": {"received": INT, "received_ratio": {"type": ["number", "null"]}},
               "additionalProperties": {"type": ["number", "null"]}},
    "WeeklyReport": _object({
        "from": DAY, "to": DAY, "previous_period": _object({"from": DAY, "to": DAY}),
        "total": {"allOf": [ref("Figures")], "required": ["previous", "change"],
                  "properties": {"previous": ref("Figures"), "change": ref("Change")}},
        "dimensions": {"type": "object", "additionalProperties": {"type": "array", "items": {
            "allOf": [ref("GroupFigures")], "required": ["previous", "change"],
            "properties": {"previous": ref("Figures"), "change": ref("Change")}}}},
        "daily": {"type": "array", "items": _object({"date": DAY, "received": COUNT, "previous_received": COUNT})}}),
    "RankingReport": _object({
        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "from": DAY, "to": DAY,
        "total": ref("Figures"),
        "items": {"type": "array", "items": {"allOf": [ref("GroupFigures")], "required": ["rank"],
                                             "properties": {"rank": {"type": "integer", "minimum": 1}}}},
        "unassigned": {"oneOf": [{"type": "null"}, ref("GroupFigures")]}}),
}

REQUESTS: dict[str, Schema] = {
    "Login": _object({"username": TEXT, "password": TEXT}),
    "Assign": _object({"username": {"type": "string", "minLength": 1}}),
    "Message": _object({"name": {**TEXT, "minLength": 1, "description": "the BPMN message (its payload schema is "
                                                                        "message_<name>.schema.json)"},
                        "case_no": {**TEXT, "minLength": 1}, "payload": ANY_OBJECT}),
    "Note": _object({"note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE, "pattern": NOT_ONLY_SPACES}}),
    # The administration's bodies (app.services.accounts). A change names only what it changes; a group's or
    # an account's change refuses fields it does not know (422), a centre's ignores them.
    "NewCentre": _object({"key": _DIRECTORY_KEY, "name": trimmed(100),
                          "parent": {**_nullable(TEXT), "description": "an existing centre's key; null or absent: "
                                                                      "a root"}}, optional=("parent",)),
    "CentreChange": {"type": "object", "properties": {
        "name": trimmed(100),
        "parent": {**_nullable(TEXT), "description": "an existing centre's key, not this centre nor one below it; "
                                                    "null: a root"}}},
    "NewGroup": _object({"key": _DIRECTORY_KEY, "name": trimmed(100), "name_en": _nullable(trimmed(100)),
                         "kind": _KIND,
                         "centre": {**_nullable(TEXT), "description": "an existing centre's key; null, empty or "
                                                                     "absent: the root, when there is only one"}},
                        optional=("name_en", "centre")),
    "GroupChange": {"type": "object", "additionalProperties": False, "properties": {
        "name": trimmed(100), "name_en": _nullable(trimmed(100)), "kind": _KIND,
        "centre": {**TEXT, "description": "an existing centre's key"}}},
    "NewUser": _object({"username": {"type": "string", "pattern": USERNAME.pattern,
                                     "description": "2-64 letters, digits or _ . -"},
                        "display_name": trimmed(128), "password": _NEW_PASSWORD, "roles": _ROLES,
                        "groups": _GROUP_KEYS}, optional=("roles", "groups")),
    "UserChange": {"type": "object", "additionalProperties": False, "properties": {
        "display_name": trimmed(128), "roles": _ROLES, "groups": _GROUP_KEYS,
        "active": {**BOOL, "description": "false ends the account's logins and hands its claimed tasks back"}}},
    "Password": _object({"password": _NEW_PASSWORD}),
    "PasswordChange": _object({"old_password": TEXT, "new_password": {
        **_NEW_PASSWORD, "description": f"at least {MIN_PASSWORD} characters, not the username nor the old one"}}),
    "NewIntegrationKey": _object({"name": trimmed(100), "source": {**trimmed(32), "description": (
        "the feed it sends for (hotline_12345, ...): 1 to 32 characters, not counting spaces around them")}}),
    "Completion": _object({"data": ANY_OBJECT}, optional=("data",)),
    "TaskDraft": _object({"data": {**ANY_OBJECT, "description": "the form's values as typed so far, not checked; "
                                                                "at most 64 KB of JSON"}}),
    "NewComment": _object({"text": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT,
                                    "pattern": NOT_ONLY_SPACES}}),
    "NewDraft": {"type": "object", "description": "process_key (and version, the latest by default) to start "
                 "from a deployed version; or new_key (and new_name) for a new case type's template",
                 "properties": {"title": TEXT, "process_key": TEXT, "version": {"type": "integer", "minimum": 1},
                                "new_key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
                                "new_name": TEXT},
                 "oneOf": [{"required": ["process_key"], "not": {"required": ["new_key"]}},
                           {"required": ["new_key"], "not": {"required": ["process_key"]}}]},
    "DraftFile": _object({"text": TEXT}),
    "TextCheck": _object({"text": TEXT, "kind": {"type": "string", "enum": ["script", "expression"]}}),

    # Operations on running cases (app.services.operations).
    "Reason": _object({"reason": _REASON, "version": _VERSION}, optional=("version",)),
    "Move": _object({"from": {**_ELEMENT, "description": "the BPMN id of the element the token waits at"},
                     "to": {**_ELEMENT, "description": "the BPMN id of a human task of the same (sub)process"},
                     "reason": _REASON, "version": _VERSION}, optional=("version",)),
    "Migration": _object({
        "process_key": {"type": "string", "minLength": 1}, "from_version": _POSITIVE, "to_version": _POSITIVE,
        "instance_ids": {"type": "array", "items": _POSITIVE,
                         "description": "only these instances (default: every running one on from_version)"},
        "mapping": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1},
                    "description": "old element id -> new element id, for elements the target renamed"},
        "dry_run": {**BOOL, "description": "report only, change nothing (default false)"}},
        optional=("instance_ids", "mapping", "dry_run")),
    "Upload": _object({"files": {"type": "array", "minItems": 1,
                                 "items": {"type": "string", "contentMediaType": "application/octet-stream"}}}),
    "AttachmentUpload": _object({"file": {"type": "string", "contentMediaType": "application/octet-stream",
                                          "description": "PDF, JPEG, PNG, DOCX or XLSX (judged by content), at "
                                                         "most CONCORD_MAX_ATTACHMENT_BYTES"}}),
}
# Request bodies sent as multipart/form-data (files) rather than JSON.
MULTIPART = ("Upload", "AttachmentUpload")
