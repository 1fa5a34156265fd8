"""Credentials are checked without a transaction per request (kernel/revocation.py): a logout, a deactivation,
a reset or a role change on this node applies to the very next request; one committed by another node (another
server process) within CONCORD_AUTH_REVOCATION_SECONDS, by the injectable clock."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import clock
from app.runtime import settings
from app.services.kernel import revocation
from tests.conftest import Api


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _elsewhere(database_url: str, *statements: str) -> None:
    """What another server process commits when it ends a login or revokes a key: the change and a bump of
    the revocation generation, in one transaction, on a connection of its own."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
            bumped = conn.execute(text("UPDATE counters SET value = value + 1 WHERE name = :n"),
                                  {"n": revocation.COUNTER}).rowcount
            if not bumped:
                conn.execute(text("INSERT INTO counters (name, value) VALUES (:n, 1)"), {"n": revocation.COUNTER})
    finally:
        engine.dispose()


def _tasks(api: Api, headers: dict[str, str]) -> int:
    return int(api.client.get("/api/v1/tasks", headers=headers).status_code)


def test_a_logout_on_another_node_applies_here_once_the_bound_has_passed(
        api: Api, database_url: str, frozen_clock: clock.FrozenClock) -> None:
    headers = api.headers("dispatch1")
    assert _tasks(api, headers) == 200  # checked against the database here, at this generation
    bound = revocation.staleness()
    assert bound == timedelta(seconds=5)  # CONCORD_AUTH_REVOCATION_SECONDS' default
    _elsewhere(database_url, "UPDATE login_sessions SET ended_at = created_at WHERE username = 'dispatch1'")
    assert _tasks(api, headers) == 200  # this node has not looked at the generation again yet
    frozen_clock.advance(bound - timedelta(milliseconds=1))
    assert _tasks(api, headers) == 200
    frozen_clock.advance(timedelta(milliseconds=1))
    assert _tasks(api, headers) == 401
    assert _tasks(api, api.headers("mediator1")) == 200  # other logins stand


def test_with_a_zero_bound_a_revocation_elsewhere_applies_to_the_next_request(
        api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(settings, "AUTH_REVOCATION_SECONDS", 0)
    headers = api.headers("dispatch1")
    assert _tasks(api, headers) == 200
    _elsewhere(database_url, "UPDATE login_sessions SET ended_at = created_at WHERE username = 'dispatch1'")
    assert _tasks(api, headers) == 401


def test_an_integration_key_revoked_on_another_node_is_refused_here_within_the_bound(
        api: Api, database_url: str, frozen_clock: clock.FrozenClock) -> None:
    made = api.post("admin1", "/integration-keys", 201, json={"name": "110对接", "source": "police_110"})
    key = _bearer(made["key"])
    assert api.client.get("/api/v1/cases", headers=key).status_code in (200, 403)  # checked: a valid key
    _elsewhere(database_url, f"UPDATE integration_keys SET revoked_at = created_at WHERE id = {made['id']}")
    assert api.client.get("/api/v1/cases", headers=key).status_code != 401
    frozen_clock.advance(revocation.staleness())
    assert api.client.get("/api/v1/cases", headers=key).status_code == 401


def test_logout_deactivation_and_reset_on_this_node_apply_to_the_very_next_request(api: Api) -> None:
    mediator, intake = api.headers("mediator1"), api.headers("intake1")
    dispatch = api.headers("dispatch1")
    for headers in (mediator, intake, dispatch):
        assert _tasks(api, headers) == 200  # all three checked and remembered at this generation
    assert api.client.post("/api/v1/auth/logout", headers=mediator).status_code == 204
    assert _tasks(api, mediator) == 401
    api.call("PATCH", "admin1", "/users/intake1", json={"active": False})
    assert _tasks(api, intake) == 401
    api.post("admin1", "/users/dispatch1/reset-password", json={"password": "a-new-password-1"})
    assert _tasks(api, dispatch) == 401


def test_a_role_taken_away_on_this_node_is_gone_from_the_next_request(api: Api) -> None:
    headers = api.headers("intake1")
    body: dict[str, Any] = {"title": "角色", "description": "角色变更", "source": "walk_in",
                            "parties": [{"name": "赵六", "role": "applicant", "phone": "13900000003"}]}
    assert api.client.post("/api/v1/cases", headers=headers, json=body).status_code == 201
    api.call("PATCH", "admin1", "/users/intake1", json={"roles": ["handler"]})
    assert api.client.post("/api/v1/cases", headers=headers, json=body).status_code == 403
