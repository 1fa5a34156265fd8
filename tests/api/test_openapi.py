from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate


def test_openapi_document_validates_and_lists_every_route(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    for path in ("/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/tasks/{task_id}/complete",
                 "/api/v1/process-definitions/validate", "/api/v1/auth/login", "/api/v1/health"):
        assert path in document["paths"], path
    assert "security" not in document["paths"]["/api/v1/health"]["get"]
    assert document["paths"]["/api/v1/cases"]["post"]["security"] == [{"bearer": []}]


def test_the_document_describes_answers_as_they_are(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    # Paged lists have the paged shape; the few lists answered whole are arrays.
    for path in ("/api/v1/cases", "/api/v1/tasks", "/api/v1/escalations", "/api/v1/notifications", "/api/v1/users"):
        answer = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["required"][:4] == ["items", "total", "page", "per_page"], path
    definitions = paths["/api/v1/process-definitions"]["get"]["responses"]["200"]["content"]["application/json"]
    assert definitions["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/Definition"}}
    assert {"id", "case_no", "parties", "timeline", "active_tasks"} <= set(schemas["Case"]["required"])
    # Answers that are not JSON say what they are.
    media = {path: set(paths[path]["get"]["responses"]["200"]["content"]) for path in (
        "/api/v1/cases/{case_id}/diagram.svg", "/api/v1/process-definitions/{key}/{version}/resources.zip",
        "/api/v1/process-definitions/{key}/{version}/resources/{name}", "/api/v1/reports/summary.{fmt}")}
    assert media == {
        "/api/v1/cases/{case_id}/diagram.svg": {"image/svg+xml"},
        "/api/v1/process-definitions/{key}/{version}/resources.zip": {"application/zip"},
        "/api/v1/process-definitions/{key}/{version}/resources/{name}": {
            "application/xml", "application/json", "application/octet-stream"},
        "/api/v1/reports/summary.{fmt}": {
            "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}}
    # Every operation names its errors as problem+json: 400 always, 401 where a token is needed, 415 for JSON.
    for path, operations in paths.items():
        for method, operation in operations.items():
            errors = {code: answer for code, answer in operation["responses"].items() if int(code) >= 400}
            assert "400" in errors and ("401" in errors or "security" not in operation), (method, path)
            assert all(set(answer["content"]) == {"application/problem+json"} for code, answer in errors.items()
                       if code != "503"), (method, path)
    register = paths["/api/v1/cases"]["post"]["responses"]
    assert {"201", "200", "400", "401", "403", "411", "413", "415", "422", "500"} <= set(register)
    assert "content" not in paths["/api/v1/auth/logout"]["post"]["responses"]["204"]
    case_id = paths["/api/v1/cases/{case_id}"]["get"]["parameters"][0]
    assert case_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_the_administration_and_the_login_throttle_are_described(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    json_answer = "application/json"
    assert paths["/api/v1/centres"]["get"]["responses"]["200"]["content"][json_answer]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Centre"}}
    assert {"active", "must_change_password", "roles", "groups"} <= set(schemas["Account"]["required"])
    assert "must_change_password" in schemas["LoggedIn"]["required"]
    # Changes that refuse fields they do not know say so; removals answer no content.
    assert schemas["UserChange"]["additionalProperties"] is schemas["GroupChange"]["additionalProperties"] is False
    for path in ("/api/v1/groups/{key}", "/api/v1/integration-keys/{key_id}"):
        responses = paths[path]["delete"]["responses"]
        assert "content" not in responses["204"] and {"403", "404"} <= set(responses), path
    # A throttled login says when to try again; a login after a reset may only change its password.
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert login["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    assert "POST /auth/password" in paths["/api/v1/cases"]["get"]["responses"]["403"]["description"]
    assert "403" not in paths["/api/v1/auth/password"]["post"]["responses"]
    # While the database is unavailable everything but this document answers 503 saying when to retry.
    for path, method in (("/api/v1/cases", "get"), ("/api/v1/users", "post"), ("/api/v1/health", "get")):
        assert paths[path][method]["responses"]["503"]["headers"]["Retry-After"]["required"] is True, path
    assert "503" not in paths["/api/v1/openapi.json"]["get"]["responses"]
    # A created account, group, centre or key links to what can be done with it next.
    assert set(paths["/api/v1/users"]["post"]["responses"]["201"]["links"]) == {"GetUser", "UpdateUser",
                                                                                "ResetPassword"}
    assert paths["/api/v1/integration-keys"]["post"]["responses"]["201"]["links"]["RevokeKey"] == {
        "operationId": "revoke_integration_key", "parameters": {"key_id": "$response.body#/id"}}
