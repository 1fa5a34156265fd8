"""An answer held against what the OpenAPI document says of it, for tests that reach answers the contract
run (tests/api/test_contract.py) cannot make: failures inside the engine, incidents on the board."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from app.web.api.schemas import RESPONSES


def assert_documented(client: Any, path: str, method: str, status: int, body: Any,
                      media: str = "application/json") -> None:
    """`body`, answered by `method path` with `status`, fits the document's schema for that answer."""
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"][f"/api/v1{path}"][method]["responses"][str(status)]["content"][media]["schema"]
    # The answer's schema as the root of a document that holds the components its $refs point into.
    Draft202012Validator({**schema, "components": document["components"]}).validate(body)


def assert_documented_problem(body: Any) -> None:
    """`body` fits the document's Problem (app.web.api.schemas, as GET /api/v1/openapi.json serves it)."""
    Draft202012Validator({"$ref": "#/components/schemas/Problem", "components": {"schemas": RESPONSES}}).validate(body)
