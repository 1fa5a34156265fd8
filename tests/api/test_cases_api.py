"""Registering, listing and reading cases through the API, including every kind of bad input."""
from __future__ import annotations

import io
from typing import Any

import pytest

from tests.conftest import PASSWORD, Api


def test_same_source_and_external_id_returns_the_existing_case(api: Api) -> None:
    first = api.register(source="hotline_12345", external_id="12345-2026-0001")
    again = api.register(source="hotline_12345", external_id="12345-2026-0001", expect=200)
    assert again["id"] == first["id"] and again["case_no"] == first["case_no"]
    other_source = api.register(source="police_110", external_id="12345-2026-0001")
    assert other_source["id"] != first["id"]
    assert api.get("admin1", "/cases")["total"] == 2


def test_case_numbers_are_sequential_per_year(api: Api) -> None:
    numbers = [api.register()["case_no"] for _ in range(3)]
    assert numbers == ["ZZ-2026-000001", "ZZ-2026-000002", "ZZ-2026-000003"]


def test_malformed_json_is_400_problem(api: Api) -> None:
    response = api.client.post("/api/v1/cases", data="{not json", headers={
        **api.headers("intake1"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400 and "malformed JSON" in problem["detail"]


_VALID = ('{"title": "t", "description": "描述内容", "source": "walk_in", '
          '"parties": [{"name": "a", "role": "applicant"}]')


@pytest.mark.parametrize("body, detail", [
    (_VALID + ', "amount": NaN}', "NaN is not a JSON value"),
    (_VALID + ', "amount": 1' + "0" * 5000 + "}", "malformed JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (_VALID.replace('"t"', '"a\\ud800b"') + "}", "unpaired surrogate"),
    (_VALID.replace('"t"', '"a\\u0000b"') + "}", "NUL"),
])
def test_hostile_json_is_400_and_registers_nothing(api: Api, body: str, detail: str) -> None:
    response = api.client.post("/api/v1/cases", data=body, headers={
        **api.headers("intake1"), "Content-Type": "application/json"})
    assert (response.status_code, response.content_type) == (400, "application/problem+json"), response.get_json()
    assert detail in response.get_json()["detail"]
    assert api.get("admin1", "/cases")["total"] == 0


def test_a_chunked_body_is_refused_rather_than_cut_at_the_size_limit(api: Api) -> None:
    body = (_VALID + ', "description": "' + "很长" * 2_000_000 + '"}').encode()
    response = api.client.post("/api/v1/cases", input_stream=io.BytesIO(body), headers={
        **api.headers("intake1"), "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert (response.status_code, response.content_type) == (411, "application/problem+json")
    assert "Content-Length" in response.get_json()["detail"]
    assert api.get("admin1", "/cases")["total"] == 0


def test_ids_beyond_any_database_integer_are_unknown(api: Api) -> None:
    api.get("admin1", "/cases/99999999999999999999", expect=404)
    api.get("designer1", "/process-definitions/dispute_case/9223372036854775808/resources", expect=404)
    api.get("admin1", "/cases/9223372036854775807", expect=404)  # the largest integer: looked up, not there


@pytest.mark.parametrize("change, field", [
    ({"parties": [{"name": "李四", "role": "respondent"}]}, "parties"),
    ({"category": "astrology"}, "category"),
    ({"source": "pigeon"}, "source"),
    ({"parties": [{"name": "张三", "role": "applicant", "phone": "12"}]}, "parties[0].phone"),
    ({"parties": [{"name": "张三", "role": "applicant", "id_number": "110105194912310021"}]}, "parties[0].id_number"),
    ({"title": None}, "title"),
    ({"title": "   "}, "title"),
    ({"parties": [{"name": " ", "role": "applicant"}]}, "parties[0].name"),
    ({"__class__": "x"}, "__class__"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_registration_is_422_with_field_paths(api: Api, change: dict[str, Any], field: str) -> None:
    problem = api.register(expect=422, **change)
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]], problem["errors"]
    assert api.get("admin1", "/cases")["total"] == 0  # nothing half-written


def test_missing_applicant_fields_are_reported_by_path(api: Api) -> None:
    response = api.client.post("/api/v1/cases", json={"source": "walk_in"}, headers=api.headers("intake1"))
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert response.status_code == 422 and {"title", "description", "parties"} <= fields


def test_body_over_the_configured_size_is_413(api: Api, app: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = api.client.post("/api/v1/cases", json={"title": "x" * 5000}, headers=api.headers("intake1"))
    assert response.status_code == 413 and response.content_type == "application/problem+json"


def test_only_intake_and_integration_accounts_register(api: Api) -> None:
    problem = api.register(user="mediator1", expect=403)
    assert problem["status"] == 403


def test_requests_without_a_valid_token_are_401(api: Api) -> None:
    assert api.client.get("/api/v1/cases").status_code == 401
    bad = api.client.get("/api/v1/cases", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401 and bad.get_json()["title"] == "Authentication required"


def test_a_logged_out_token_is_refused_and_other_logins_stay(api: Api) -> None:
    tokens = [api.client.post("/api/v1/auth/login", json={"username": "intake1", "password": PASSWORD})
              .get_json()["token"] for _ in range(2)]
    assert tokens[0] != tokens[1]
    bearer = [{"Authorization": f"Bearer {token}"} for token in tokens]
    logged_out = api.client.post("/api/v1/auth/logout", headers=bearer[0])
    assert logged_out.status_code == 204 and not logged_out.data and "Content-Type" not in logged_out.headers
    refused = api.client.get("/api/v1/cases", headers=bearer[0])
    assert refused.status_code == 401 and "logged out" in refused.get_json()["detail"]
    assert api.client.get("/api/v1/cases", headers=bearer[1]).status_code == 200  # another window stays in
    assert api.client.post("/api/v1/auth/logout", headers=bearer[0]).status_code == 401


def test_tokens_expire(api: Api, frozen_clock: Any) -> None:
    from datetime import timedelta

    headers = api.headers("intake1")
    assert api.client.get("/api/v1/cases", headers=headers).status_code == 200
    frozen_clock.advance(timedelta(hours=9))
    expired = api.client.get("/api/v1/cases", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]


def test_wrong_password_is_401(api: Api) -> None:
    response = api.client.post("/api/v1/auth/login", json={"username": "intake1", "password": "wrong"})
    assert response.status_code == 401 and response.content_type == "application/problem+json"


def test_login_returns_roles_and_groups(api: Api) -> None:
    from tests.conftest import PASSWORD

    body = api.client.post("/api/v1/auth/login", json={"username": "mediator1", "password": PASSWORD}).get_json()
    assert body["user"] == {"username": "mediator1", "display_name": "人民调解员", "roles": ["handler"],
                            "groups": ["mediation"]}


def test_unknown_and_invisible_cases_are_404(api: Api) -> None:
    case = api.register(category="labor")
    assert api.get("admin1", "/cases/999999", expect=404)["status"] == 404
    # The family room never had a task on this labour case.
    api.get("family1", f"/cases/{case['id']}", expect=404)
    assert api.get("family1", "/cases")["total"] == 0


def test_personal_data_is_masked_for_those_not_handling_the_case(api: Api) -> None:
    case = api.register(category="labor")
    seen_by_intake = api.get("intake1", f"/cases/{case['id']}")["parties"][0]
    assert seen_by_intake["id_number"] == "11010519491231002X"
    seen_by_supervisor = api.get("supervisor1", f"/cases/{case['id']}")
    party = seen_by_supervisor["parties"][0]
    assert seen_by_supervisor["personal_data_masked"] is True
    assert party["id_number"] == "1101**********002X" and party["phone"] == "138****8000"
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    assert api.get("labor1", f"/cases/{case['id']}")["parties"][0]["phone"] == "13800138000"


def test_case_list_filters(api: Api) -> None:
    api.register(category="labor", title="欠薪")
    api.register(category="neighbor", source="grid", title="噪音")
    api.register(title="未分类事项")
    assert api.get("admin1", "/cases?category=labor")["total"] == 1
    assert api.get("admin1", "/cases?source=grid")["items"][0]["title"] == "噪音"
    assert api.get("admin1", "/cases?q=欠薪")["total"] == 1
    assert api.get("admin1", "/cases?q=%25")["total"] == 0 and api.get("admin1", "/cases?q=_")["total"] == 0
    assert api.get("admin1", "/cases?status=registered")["total"] == 3
    page = api.get("admin1", "/cases?per_page=2&page=2")
    assert page["total"] == 3 and len(page["items"]) == 1 and page["per_page"] == 2
    assert api.get("admin1", "/cases?overdue=true")["total"] == 0
    assert [e["field"] for e in api.get("admin1", "/cases?page=abc", expect=422)["errors"]] == ["page"]
    assert [e["field"] for e in api.get("admin1", "/cases?overdue=maybe", expect=422)["errors"]] == ["overdue"]
    login = api.client.post("/api/v1/auth/login", json={"username": 5})
    assert login.status_code == 422 and [e["field"] for e in login.get_json()["errors"]] == ["username", "password"]
    api.register(title="押金100%_未退")
    assert [c["title"] for c in api.get("admin1", "/cases?q=100%25_")["items"]] == ["押金100%_未退"]


def test_timestamps_are_in_the_centre_time_zone(api: Api) -> None:
    case = api.register()
    assert case["created_at"] == "2026-12-01T09:30:00+08:00"


def test_unknown_api_route_is_a_problem_not_html(client: Any) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.content_type == "application/problem+json"


@pytest.mark.parametrize("method, path, allowed", [
    ("TRACE", "/api/v1/cases/1", {"GET", "HEAD", "OPTIONS"}),
    ("DELETE", "/api/v1/cases", {"GET", "POST", "HEAD", "OPTIONS"}),
    ("PUT", "/api/v1/health", {"GET", "HEAD", "OPTIONS"}),
])
def test_a_method_the_resource_does_not_answer_is_405_naming_those_it_does(client: Any, method: str, path: str,
                                                                          allowed: set[str]) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405 and response.content_type == "application/problem+json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_health_reports_database_and_scheduler(client: Any) -> None:
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["scheduler"] in ("running", "stopped")


def test_a_repeated_work_order_from_another_account_returns_the_existing_case(api: Api) -> None:
    first = api.register(user="integration1", source="hotline_12345", external_id="WO-1", category="labor")
    again = api.register(user="intake1", source="hotline_12345", external_id="WO-1", category="labor",
                         expect=200)
    assert (again["id"], again["case_no"]) == (first["id"], first["case_no"]) and "parties" not in again


def test_a_feed_sends_the_reception_time_of_its_work_order(api: Api) -> None:
    api.language = "en"  # the refusals below are checked by their English words
    case = api.register(user="integration1", source="hotline_12345", external_id="GD-1",
                        received_at="2026-11-30T17:45:00+08:00")
    detail = api.get("admin1", f"/cases/{case['id']}")
    assert (detail["received_at"], detail["created_at"]) == ("2026-11-30T17:45:00+08:00", "2026-12-01T09:30:00+08:00")
    # A window registers what it receives now; a feed's time must be a real instant, not a future one.
    for user, value, fragment in [("intake1", "2026-11-30T17:45:00+08:00", "integration accounts"),
                                  ("integration1", "2026-11-30 17:45", "offset"),
                                  ("integration1", 1764495900, "offset"),
                                  ("integration1", "2026-12-02T09:00:00+08:00", "future"),
                                  ("integration1", "1559-02-20T15:33:33Z", "before 2000")]:
        problem = api.register(user=user, expect=422, source="hotline_12345", external_id=f"GD-{user}-{value}",
                               received_at=value)
        assert [(e["field"], fragment in e["message"]) for e in problem["errors"]] == [("received_at", True)]
    assert api.get("admin1", "/cases")["total"] == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_declared_as_something_else_than_json_is_415_and_registers_nothing(api: Api, content_type: str) -> None:
    response = api.client.post("/api/v1/cases", data=_VALID + "}", headers={
        **api.headers("intake1"), "Content-Type": content_type})
    assert (response.status_code, response.content_type) == (415, "application/problem+json")
    assert "application/json" in response.get_json()["detail"]
    assert api.get("admin1", "/cases")["total"] == 0


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/problem+json", None])
def test_json_bodies_are_read_whether_or_not_they_say_so(api: Api, content_type: str | None) -> None:
    headers = api.headers("intake1")
    headers.pop("Content-Type", None)
    if content_type:
        headers["Content-Type"] = content_type
    body = _VALID.replace('"t"', '"邻里噪音"') + "}"
    response = api.client.post("/api/v1/cases", data=body.encode(), headers=headers)
    assert response.status_code == 201, response.get_json()
