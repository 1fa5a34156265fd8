"""The officer's workspace through the API: the case panel and labelled history on a task, notifications
read marks, and validation messages that name the field's label in the caller's language."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from app.services.kernel import timers
from tests.conftest import Api


def _handle_task(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    case = api.register(category="neighbor", amount=3600, title="楼上漏水纠纷")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple",
                                                  "dispatch_note": "请先电话联系双方"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    return case, api.task(case["id"], "handle")


def test_a_task_shows_the_case_facts_and_what_earlier_steps_recorded_by_their_labels(api: Api) -> None:
    case, task = _handle_task(api)
    answer = api.get("mediator1", f"/tasks/{task['id']}")
    facts = answer["case"]
    assert (facts["title"], facts["description"]) == ("楼上漏水纠纷", "楼上夜间噪音扰民。")
    assert (facts["category_name"], facts["urgency_name"], facts["source_name"]) == ("邻里纠纷", "一般", "窗口来访")
    assert (facts["source"], facts["amount"], facts["amount_text"]) == ("walk_in", 3600, "3,600.00 元")
    # The mediator handles the case: the parties' phones are shown whole to them.
    assert facts["parties"][0]["phone"] == "13800138000" and facts["personal_data_masked"] is False
    dispatch, sign_for = answer["history"]
    assert (dispatch["task"], dispatch["actor"], dispatch["title"]) == ("dispatch", "dispatch1", "分流交办")
    shown = {v["label"]: v["text"] for v in dispatch["values"]}
    assert shown["交办意见"] == "请先电话联系双方"
    assert "simple" not in shown.values() and shown["复杂程度"] != "simple"
    assert [(v["label"], v["text"]) for v in sign_for["values"]] == [("是否签收", "签收")]  # the form's own names
    assert answer["urges"] == []


def test_parties_on_a_task_are_masked_for_a_supervisor_who_does_not_handle_the_case(api: Api) -> None:
    _, task = _handle_task(api)
    facts = api.get("supervisor1", f"/tasks/{task['id']}")["case"]
    assert facts["personal_data_masked"] is True and facts["parties"][0]["phone"] == "138****8000"
    assert facts["parties"][0]["id_number"] == "1101**********002X"


def test_the_history_names_outcomes_and_shows_amounts_as_money_not_codes(api: Api) -> None:
    case, task = _handle_task(api)
    api.work("mediator1", case["id"], "handle", {"outcome": "mediation_failed", "handling_note": "双方分歧大"},
             expect=200)
    after = api.get("admin1", f"/cases/{case['id']}")["active_tasks"]
    assert after, "the case goes on after a failed mediation"
    history = api.get("admin1", f"/tasks/{after[0]['id']}")["history"]
    handled = next(step for step in history if step["task"] == "handle")
    shown = {v["label"]: v["text"] for v in handled["values"]}
    assert shown["办理结果"] == "调解不成" and shown["办理说明"] == "双方分歧大"


def test_validation_messages_are_chinese_by_default_name_the_label_and_echo_nothing(api: Api) -> None:
    problem = api.register(expect=422, title="x", parties=[{"name": "王五", "role": "respondent", "phone": "12345"}])
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages["title"] == "「事项标题」至少需要 2 个字"
    assert messages["parties"] == "「当事人」中至少要有一项「身份」为「申请人」"
    text = problem["detail"] + "".join(messages.values())
    for leaked in ("王五", "12345", "'x'", "is too short", "does not contain", "{"):
        assert leaked not in text, leaked


def test_validation_messages_follow_accept_language(api: Api) -> None:
    api.language = "en-US,en;q=0.9"
    problem = api.register(expect=422, title="x")
    assert {e["field"]: e["message"] for e in problem["errors"]}["title"] == "事项标题: needs at least 2 characters"


def test_a_refused_combination_says_why_not_true_was_expected(api: Api) -> None:
    case, task = _handle_task(api)
    api.post("mediator1", f"/tasks/{task['id']}/claim")
    problem = api.post("mediator1", f"/tasks/{task['id']}/complete", expect=422, json={"data": {
        "outcome": "mediation_failed", "apply_judicial_confirmation": True}})
    [error] = problem["errors"]
    assert error["message"] == "「当事人申请司法确认」：只有调解成功才可申请司法确认"
    assert "True" not in problem["detail"] and "expected" not in problem["detail"]


def test_a_number_of_thousands_of_digits_is_refused_without_python_internals(api: Api) -> None:
    response = api.client.post("/api/v1/cases", data='{"amount": ' + "9" * 5000 + "}",
                               headers={**api.headers("intake1"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "sys.set_int_max_str_digits" not in response.get_json()["detail"]


def test_an_urge_is_on_the_task_and_a_notification_can_be_marked_read(api: Api, frozen_clock: Any) -> None:
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "general"})
    sign_for = api.task(case["id"], "sign_for")
    api.post("mediator1", f"/tasks/{sign_for['id']}/claim")
    frozen_clock.set(datetime.fromisoformat(sign_for["due_at"]) - timedelta(hours=2))
    timers.run_once()
    api.post("supervisor1", f"/tasks/{sign_for['id']}/urge", json={"note": "请今天签收"})
    [urge] = api.get("mediator1", f"/tasks/{sign_for['id']}")["urges"]
    assert urge["kind"] == "urge" and "请今天签收" in urge["message"]
    note = next(n for n in api.get("mediator1", "/notifications")["items"] if n["kind"] == "urge")
    assert note["read"] is False
    assert api.post("mediator1", f"/notifications/{note['id']}/read")["read"] is True
    assert api.post("mediator1", f"/notifications/{note['id']}/read")["read"] is True  # again: no change
    assert next(n for n in api.get("mediator1", "/notifications")["items"] if n["id"] == note["id"])["read"]
    api.post("intake1", f"/notifications/{note['id']}/read", expect=404)
    api.post("mediator1", "/notifications/999999/read", expect=404)


def test_the_daily_export_names_codes_and_ends_day_limits_at_24_00(api: Api) -> None:
    api.register(category="neighbor")  # Tuesday 09:30: dispatch is due at the end of Wednesday
    response = api.client.get("/api/v1/reports/daily.csv", headers=api.headers("supervisor1"))
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    new = next(row for row in rows if row and row[0].startswith("ZZ-"))
    assert "窗口来访" in new and "邻里纠纷" in new and "已登记" in new
    assert "walk_in" not in text and "neighbor" not in text and ",registered," not in text
    due = api.client.get("/api/v1/reports/daily.csv?date=2026-12-02", headers=api.headers("supervisor1"))
    assert "2026-12-02 24:00" in due.data.decode("utf-8-sig")


def test_a_work_order_number_finds_its_case(api: Api) -> None:
    case = api.register(user="integration1", source="hotline_12345", external_id="GD20261127000101")
    api.register(title="另一件纠纷")
    found = api.get("admin1", "/cases?q=GD20261127000101")["items"]
    assert [c["case_no"] for c in found] == [case["case_no"]]
