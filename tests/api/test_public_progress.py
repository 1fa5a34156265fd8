"""The public progress lookup (一案一码): an applicant's case number and phone, without login, give the
case's status and public milestones — nothing personal — and anything else is the same 404."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Api

PARTIES = [{"name": "张三", "role": "applicant", "phone": "13800138000", "id_number": "11010519491231002X"},
           {"name": "李四", "role": "respondent", "phone": "13900139000", "id_number": "110105198001010016"}]


def _lookup(client: Any, case_no: str, phone: str, address: str = "203.0.113.7", language: str = "zh") -> Any:
    return client.get("/api/v1/public/progress", query_string={"case_no": case_no, "phone": phone},
                      environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": language})


def _closed_case(api: Api, frozen_clock: Any) -> dict[str, Any]:
    case = api.register(category="neighbor", parties=PARTIES, title="楼上漏水纠纷", description="楼上漏水，协商未果。")
    for user, name, data in (
            ("dispatch1", "dispatch", {"handling_group": "mediation", "complexity": "simple",
                                       "dispatch_note": "请先电话联系双方"}),
            ("mediator1", "sign_for", {"accepted": True}),
            ("mediator1", "handle", {"outcome": "resolved", "agreement_summary": "楼上赔偿维修费"}),
            ("intake1", "feedback", {"satisfied": True, "visit_method": "phone", "visit_note": "已回访"})):
        frozen_clock.advance(timedelta(hours=2))
        api.work(user, case["id"], name, data)
    return case


def test_the_applicants_phone_shows_the_status_and_milestones(api: Api, client: Any, frozen_clock: Any) -> None:
    case = _closed_case(api, frozen_clock)
    response = _lookup(client, case["case_no"], "+86 138-0013-8000")  # as people type it
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["case_no"] == case["case_no"] and answer["status"] == "已办结"
    assert [m["title"] for m in answer["milestones"]] == ["受理登记", "分流交办", "办理/调解", "反馈回访", "办结"]
    times = [m["at"] for m in answer["milestones"]]
    assert times[0] == "2026-12-01T09:30:00+08:00" and times[-1] == "2026-12-01T17:30:00+08:00"
    assert times == sorted(times) and len(set(times)) == 5
    english = _lookup(client, case["case_no"].lower(), "13800138000", language="en").get_json()
    assert english["status"] == "Closed" and english["milestones"][0]["title"] == "Registered"


def test_an_open_case_shows_how_far_it_came(api: Api, client: Any) -> None:
    case = api.register(category="neighbor", parties=PARTIES)
    answer = _lookup(client, case["case_no"], "13800138000").get_json()
    assert answer["status"] == "已登记" and [m["title"] for m in answer["milestones"]] == ["受理登记"]
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    answer = _lookup(client, case["case_no"], "13800138000").get_json()
    assert answer["status"] == "已交办" and [m["title"] for m in answer["milestones"]] == ["受理登记", "分流交办"]


def test_no_personal_data_is_in_the_answer(api: Api, client: Any, frozen_clock: Any) -> None:
    case = _closed_case(api, frozen_clock)
    text = _lookup(client, case["case_no"], "13800138000").get_data(as_text=True)
    for personal in ("张三", "李四", "13800138000", "13900139000", "11010519491231002X", "110105198001010016",
                     "楼上漏水", "协商未果", "请先电话联系双方", "赔偿", "已回访", "mediat", "dispatch1", "intake1"):
        assert personal not in text, personal


def test_a_respondents_phone_a_wrong_phone_and_an_unknown_case_are_the_same_404(api: Api, client: Any) -> None:
    case = api.register(category="neighbor", parties=PARTIES)
    refusals = [_lookup(client, case["case_no"], "13900139000"),  # the respondent's
                _lookup(client, case["case_no"], "13800138001"),
                _lookup(client, case["case_no"], ""),
                _lookup(client, "ZZ-2026-999999", "13800138000"),
                client.get("/api/v1/public/progress", environ_base={"REMOTE_ADDR": "203.0.113.7"})]
    assert {r.status_code for r in refusals} == {404}
    assert len({r.get_data() for r in refusals}) == 1
    assert refusals[0].mimetype == "application/problem+json"


def test_lookups_past_the_limit_of_an_address_answer_429_until_the_minute_passes(
        api: Api, client: Any, frozen_clock: Any) -> None:
    case = api.register(category="neighbor", parties=PARTIES)
    for _ in range(10):
        assert _lookup(client, case["case_no"], "13900139000").status_code == 404
    refused = _lookup(client, case["case_no"], "13800138000")  # even with the right phone now
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == "60"
    assert _lookup(client, case["case_no"], "13800138000", address="198.51.100.1").status_code == 200  # another
    frozen_clock.advance(timedelta(seconds=45))
    assert _lookup(client, case["case_no"], "13800138000").headers["Retry-After"] == "15"
    frozen_clock.advance(timedelta(seconds=15))
    assert _lookup(client, case["case_no"], "13800138000").status_code == 200


def test_the_lookup_needs_no_login_and_is_public_in_the_openapi_document(client: Any) -> None:
    assert "security" not in client.get("/api/v1/openapi.json").get_json()  # no default: an operation says
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/public/progress"]["get"]
    assert "security" not in operation and "401" not in operation["responses"]  # as /health and /auth/login
    assert {"200", "404", "429"} <= set(operation["responses"])


def test_behind_a_trusted_proxy_the_limit_counts_the_address_the_proxy_saw(api: Api, app: Any, client: Any) -> None:
    case = api.register(category="neighbor", parties=PARTIES)
    app.config["TRUSTED_PROXIES"] = 1  # CONCORD_TRUSTED_PROXIES=1: one nginx in front

    def through_proxy(forwarded: str) -> int:
        return int(client.get("/api/v1/public/progress", query_string={"case_no": case["case_no"], "phone": "1"},
                              environ_base={"REMOTE_ADDR": "10.0.0.2"},
                              headers={"X-Forwarded-For": forwarded}).status_code)

    # A client writing its own X-Forwarded-For gains nothing: the proxy appends the address it saw.
    assert [through_proxy(f"192.0.2.{n}, 203.0.113.50") for n in range(11)] == [404] * 10 + [429]
    assert through_proxy("203.0.113.51") == 404  # another client behind the same proxy is not refused
