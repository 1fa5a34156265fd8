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
