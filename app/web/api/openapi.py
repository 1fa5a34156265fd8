"""The OpenAPI 3.1 document, generated from the registered routes and their @doc notes."""
from __future__ import annotations

import copy
import re
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from app.errors import NotFound
from app.services.intake import cases as case_service
from app.web.api.blueprint import bp
from app.web.api.support import OPERATIONS, doc

_OBJECT = {"type": "object"}
SCHEMAS: dict[str, Any] = {
    "Problem": {"type": "object", "required": ["type", "title", "status"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "element": {"type": "string", "description": "process-failure: the BPMN element (or the process state) "
                                                     "the process failed at"},
        "incident": {"type": "integer", "description": "process-failure: the incident recorded for it"}}},
    "Login": {"type": "object", "required": ["username", "password"],
              "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
    "Assign": {"type": "object", "required": ["username"], "properties": {"username": {"type": "string"}}},
    "Message": {"type": "object", "required": ["name", "case_no", "payload"], "properties": {
        "name": {"type": "string"}, "case_no": {"type": "string"}, "payload": {"type": "object"}}},
    "Note": {"type": "object", "required": ["note"], "properties": {"note": {"type": "string"}}},
    "Centre": {"type": "object", "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"}, "name": {"type": "string"},
        "parent": {"type": ["string", "null"]}}},
    "Group": {"type": "object", "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"}, "name": {"type": "string"},
        "name_en": {"type": ["string", "null"]},
        "kind": {"enum": ["window", "dispatch", "mediation", "department", "supervision", "external"]},
        "centre": {"type": "string"}}},
    "NewUser": {"type": "object", "required": ["username", "display_name", "password"], "properties": {
        "username": {"type": "string"}, "display_name": {"type": "string"},
        "password": {"type": "string", "minLength": 10},
        "roles": {"type": "array", "items": {"type": "string"}},
        "groups": {"type": "array", "items": {"type": "string"}}}},
    "UserChange": {"type": "object", "properties": {
        "display_name": {"type": "string"}, "roles": {"type": "array", "items": {"type": "string"}},
        "groups": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"}}},
    "Password": {"type": "object", "required": ["password"],
                 "properties": {"password": {"type": "string", "minLength": 10}}},
    "PasswordChange": {"type": "object", "required": ["old_password", "new_password"], "properties": {
        "old_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 10}}},
    "IntegrationKey": {"type": "object", "required": ["name", "source"], "properties": {
        "name": {"type": "string"}, "source": {"type": "string"}}},
    "Completion": {"type": "object", "properties": {"data": {"type": "object"}}},
    "Upload": {"type": "object", "properties": {"files": {"type": "array",
                                                          "items": {"type": "string", "contentMediaType":
                                                                    "application/octet-stream"}}}},
}


def _registration_schema() -> dict[str, Any]:
    """The registration form as deployed (the one registrations are validated against)."""
    try:
        schema = copy.deepcopy(case_service.registration_form()["schema"])
    except NotFound:  # nothing deployed yet
        return dict(_OBJECT)
    schema.pop("$schema", None)
    # Beside the form's fields, a feed may send the work order's reception time (app.services.intake.cases).
    schema.setdefault("properties", {})["received_at"] = {
        "type": "string", "format": "date-time",
        "description": "integration accounts only: when the source system received the work order"}
    return schema


def _operation(endpoint: str, method: str, params: list[str]) -> dict[str, Any]:
    note = OPERATIONS.get(endpoint, {"summary": endpoint, "tag": "misc", "responses": {200: "OK"},
                                     "body": None, "public": False, "query": ()})
    op: dict[str, Any] = {"operationId": endpoint.split(".")[-1], "summary": note["summary"], "tags": [note["tag"]],
                          "responses": {}}
    for code, text in note["responses"].items():
        media = "application/json" if code < 400 else "application/problem+json"
        ref = {"$ref": "#/components/schemas/Problem"} if code >= 400 else _OBJECT
        op["responses"][str(code)] = {"description": text, "content": {media: {"schema": ref}}}
    if not note["public"]:
        op["security"] = [{"bearer": []}]
        op["responses"].setdefault("401", {"description": "Missing or invalid token"})
    if note["tag"] != "meta":
        op["responses"].setdefault("503", {
            "description": "The database is unreachable or not answering: retry after Retry-After seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
    parameters += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}} for q in note["query"]]
    if parameters:
        op["parameters"] = parameters
    if note["body"] and method in ("post", "put", "patch"):
        media = "multipart/form-data" if note["body"] == "Upload" else "application/json"
        if media == "application/json":
            op["responses"].setdefault("415", {"description": "The body is not declared as JSON", "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
        op["requestBody"] = {"required": True, "content": {
            media: {"schema": {"$ref": f"#/components/schemas/{note['body']}"}}}}
    return op


@bp.get("/openapi.json")
@doc("This document", tag="meta", public=True)
def openapi() -> ResponseReturnValue:
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, method.lower(),
                                                                    sorted(rule.arguments))
    schemas = dict(SCHEMAS, CaseRegistration=_registration_schema())
    return jsonify({
        "openapi": "3.1.0",
        "info": {"title": "Concord API", "version": "1.0.0",
                 "description": "综治中心矛盾纠纷闭环流转平台 — case workflow API"},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })
