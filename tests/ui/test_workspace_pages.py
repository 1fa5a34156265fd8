"""The officer's workspace on the pages: the case beside the task's form, labels instead of codes, due
instants as the centre counts them, Chinese messages naming the field, notifications and urges."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from app.services.kernel import timers
from tests.conftest import Api
from tests.ui.conftest import Pages

RAW_CODES = ("resolved", "mediation_failed", "walk_in", ">dispatch<", "3600.0<", "neighbor<")


def _case_at_handle(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    case = api.register(category="neighbor", amount=3600, title="楼上漏水纠纷")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple",
                                                  "dispatch_note": "请先电话联系双方"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    return case, api.task(case["id"], "handle")


def test_the_task_page_shows_the_case_and_what_the_dispatcher_noted(pages: Pages, api: Api) -> None:
    _, task = _case_at_handle(api)
    html = pages.login("mediator1").get(f"/tasks/{task['id']}")
    panel = html.split('class="card case-panel"')[1].split("</aside>")[0]
    for shown in ("楼上漏水纠纷", "楼上夜间噪音扰民。", "邻里纠纷", "窗口来访", "3,600.00 元", "张三", "13800138000",
                  "分流交办", "请先电话联系双方", "交办意见", "签收"):
        assert shown in panel, shown
    assert "办理结果" in html.split("</aside>")[1]  # the form beside it
    for code in RAW_CODES:
        assert code not in panel, code


def test_the_case_page_names_codes_and_shows_what_was_recorded(pages: Pages, api: Api) -> None:
    case, _ = _case_at_handle(api)
    api.work("mediator1", case["id"], "handle", {"outcome": "resolved", "agreement_summary": "楼上赔偿3600元维修费"})
    api.work("intake1", case["id"], "feedback", {"satisfied": True, "visit_method": "phone", "visit_note": "已回访"})
    html = pages.login("admin1").get(f"/cases/{case['id']}")
    for shown in ("3,600.00 元", "窗口来访", "调解成功/已化解", "楼上赔偿3600元维修费", "已回访", "协议内容/办理情况"):
        assert shown in html, shown
    body = html.split('<section class="card diagram">')[0]
    for code in RAW_CODES:
        assert code not in body, code


def test_the_case_page_shows_possible_duplicates(pages: Pages, api: Api) -> None:
    first = api.register(category="neighbor")
    second = api.register(category="neighbor", title="同一申请人又来了")
    assert api.get("admin1", f"/cases/{second['id']}")["possible_duplicates"]
    html = pages.login("admin1").get(f"/cases/{second['id']}")
    assert f'data-duplicate="{first["case_no"]}"' in html and "疑似重复件" in html and "身份证号相同" in html


def test_a_day_limit_ends_at_24_00_and_time_left_counts_working_days(pages: Pages, api: Api,
                                                                    frozen_clock: Any) -> None:
    api.register(category="neighbor")  # Tuesday 2026-12-01 09:30: dispatch within one working day
    inbox = pages.login("dispatch1").get("/inbox")
    assert "2026-12-02 24:00" in inbox and "2026-12-03 00:00" not in inbox
    assert "剩余 1个工作日14小时" in inbox
    # Friday 10:00 with a limit ending Monday 24:00: 38 working hours, not "2 days" nor "3 days".
    frozen_clock.set(datetime.fromisoformat("2026-12-04T10:00:00+08:00"))
    api.register(category="neighbor", title="周五登记的纠纷")
    inbox = pages.login("dispatch1").get("/inbox")
    assert "2026-12-07 24:00" in inbox and "剩余 1个工作日14小时" in inbox


def test_a_closed_case_stops_counting(pages: Pages, api: Api, frozen_clock: Any) -> None:
    case, _ = _case_at_handle(api)
    api.work("mediator1", case["id"], "handle", {"outcome": "resolved"})
    api.work("intake1", case["id"], "feedback", {"satisfied": True, "visit_method": "phone"})
    assert api.get("admin1", f"/cases/{case['id']}")["status"] == "closed"
    def header() -> str:
        return pages.login("admin1").get(f"/cases/{case['id']}").split('<p class="meta">')[1].split("</p>")[0]

    closed = header()
    frozen_clock.set(frozen_clock.now() + timedelta(days=9))
    assert header() == closed and "办结于" in closed


def test_page_validation_messages_name_the_label_in_the_chosen_language(pages: Pages) -> None:
    pages.login("intake1")
    form = {"title": "x", "description": "楼上噪音", "source": "walk_in", "amount": "9" * 5000,
            "parties[0].name": "王五", "parties[0].role": "respondent", "parties[0].phone": "12345"}
    html = pages.post("/cases/new", form).get_data(as_text=True)
    assert "「事项标题」至少需要 2 个字" in html and "「当事人」中至少要有一项「身份」为「申请人」" in html
    assert "「涉及金额（元）」请输入数字" in html
    for leaked in ("is too short", "does not contain", "[{", "set_int_max_str_digits", "was expected"):
        assert leaked not in html, leaked
    pages.client.get("/lang/en?next=/")
    html = pages.post("/cases/new", form).get_data(as_text=True)
    assert "事项标题: needs at least 2 characters" in html


def test_an_unknown_case_is_said_in_chinese(pages: Pages) -> None:
    html = pages.login("intake1").get("/cases/9999", 404)
    assert "没有这条记录" in html and "does not exist" not in html


def test_an_urge_reaches_the_handler_on_the_inbox_the_task_and_the_notifications(pages: Pages, api: Api,
                                                                                frozen_clock: Any) -> None:
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "general"})
    sign_for = api.task(case["id"], "sign_for")
    api.post("mediator1", f"/tasks/{sign_for['id']}/claim")
    frozen_clock.set(datetime.fromisoformat(sign_for["due_at"]) - timedelta(hours=2))
    timers.run_once()
    api.post("supervisor1", f"/tasks/{sign_for['id']}/urge", json={"note": "请今天内签收"})
    pages.login("mediator1")
    inbox = pages.get("/inbox?scope=mine")
    assert f'data-urged="{sign_for["id"]}"' in inbox
    assert re.search(r'class="nav-badge" data-unread="(\d+)"', inbox)
    task = pages.get(f"/tasks/{sign_for['id']}")
    assert "督办催办" in task and "请今天内签收" in task
    notes = pages.get("/notifications")
    note_id = re.search(r'<tr class="unread" data-notification="(\d+)" data-kind="urge"', notes).group(1)
    before = int(re.search(r'data-unread="(\d+)"', notes).group(1))
    assert pages.post(f"/notifications/{note_id}/read", {}).status_code == 302
    after = pages.get("/notifications")
    assert f'<tr class="read" data-notification="{note_id}"' in after
    left = re.search(r'data-unread="(\d+)"', after)
    assert (int(left.group(1)) if left else 0) == before - 1
