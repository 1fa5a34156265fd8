"""The server-rendered pages, driven like a browser without JavaScript: log in, inbox, forms, case page."""
from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from tests.conftest import Api
from tests.ui.conftest import Pages, field_error

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_pages_need_a_login_and_return_to_where_you_were(pages: Pages) -> None:
    response = pages.client.get("/inbox?scope=mine")
    assert response.status_code == 302 and "/login?next=/inbox?scope%3Dmine" in response.headers["Location"]
    response = pages.post("/login", {"username": "dispatch1", "password": "test-password-1",
                                     "next": "/inbox?scope=mine"})
    assert response.headers["Location"] == "/inbox?scope=mine"
    assert "我的" in pages.get("/inbox?scope=mine")


def test_wrong_password_and_offsite_next_are_refused(pages: Pages) -> None:
    response = pages.post("/login", {"username": "dispatch1", "password": "nope"})
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)
    response = pages.post("/login", {"username": "dispatch1", "password": "test-password-1",
                                     "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_every_post_needs_the_csrf_token(pages: Pages) -> None:
    response = pages.client.post("/login", data={"username": "dispatch1", "password": "test-password-1"})
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)


def test_logging_out_ends_the_session_for_a_copy_of_the_cookie_too(pages: Pages) -> None:
    pages.login("dispatch1")
    copied = pages.client.get_cookie("session").value
    pages.post("/logout", {})
    pages.client.set_cookie("session", copied)  # someone kept the cookie of the logged-in browser
    response = pages.client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_expired_session_sends_you_to_login_and_back(pages: Pages, frozen_clock: Any) -> None:
    from datetime import timedelta

    pages.login("dispatch1")
    frozen_clock.advance(timedelta(hours=9))
    response = pages.client.get("/cases?q=x")
    assert response.status_code == 302 and "next=/cases?q%3Dx" in response.headers["Location"]
    assert "会话已过期" in pages.get(response.headers["Location"])


def test_language_switch_is_remembered(pages: Pages) -> None:
    pages.login("dispatch1")
    assert "待办" in pages.get("/inbox")
    pages.client.get("/lang/en?next=/inbox")
    html = pages.get("/inbox")
    assert "Inbox" in html and "待办" not in html
    assert pages.client.get_cookie("lang").value == "en"


def test_403_and_404_pages_are_clear(pages: Pages) -> None:
    pages.login("dispatch1")
    assert "无权" in pages.get("/designer", 403)
    assert "页面不存在" in pages.get("/no-such-page", 404)
    assert "未找到" in pages.get("/cases/999", 404)
    assert "页面不存在" in pages.get("/cases/99999999999999999999", 404)  # beyond any id: unknown, not a crash
    assert pages.client.get("/cases?q=a%00b").status_code == 400  # PostgreSQL could not even compare it
    assert pages.client.get("/api/v1/no-such").mimetype == "application/problem+json"


@SQLITE
def test_register_then_work_the_task_through_the_inbox(pages: Pages, api: Api) -> None:
    pages.login("intake1")
    html = pages.get("/cases/new")
    assert "受理登记" in html and 'name="parties[0].name"' in html and "至少一名申请人" in html
    # Invalid: no title, a bad phone, a word in the amount. Everything typed comes back.
    response = pages.post("/cases/new", {"description": "楼上夜间噪音扰民。", "source": "walk_in",
                                         "parties[0].name": "张三", "parties[0].role": "applicant",
                                         "parties[0].phone": "123", "amount": "很多", "category": "labor"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "title") == "「事项标题」为必填项"
    assert field_error(html, "parties[0].phone") and field_error(html, "amount") == "「涉及金额（元）」请输入数字"
    assert 'value="很多"' in html and "楼上夜间噪音扰民。" in html and 'value="123"' in html
    response = pages.post("/cases/new", {"title": "邻里噪音纠纷", "description": "楼上夜间噪音扰民。",
                                         "source": "walk_in", "category": "labor", "parties[0].name": "张三",
                                         "parties[0].role": "applicant", "parties[0].phone": "13800138000",
                                         "amount": "1200.5", "willing_to_mediate": "true"})
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    case_html = pages.get(f"/cases/{case_id}")
    assert "邻里噪音纠纷" in case_html and 'data-element-id="dispatch"' in case_html and "受理登记" in case_html

    officer = Pages(pages.app).login("dispatch1")
    inbox = officer.get("/inbox")
    task_id = re.search(r'data-task-id="([^"]+)" data-task="dispatch"', inbox).group(1)
    assert officer.post(f"/tasks/{task_id}/claim", {}).status_code == 302
    form = officer.get(f"/tasks/{task_id}")
    assert "劳动人事争议调解室" in form and "checked" in form  # routing table prefill, radios
    response = officer.post(f"/tasks/{task_id}", {"handling_group": "labor", "dispatch_note": "请尽快"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "complexity") == "「复杂程度」为必填项" and "请尽快" in html
    response = officer.post(f"/tasks/{task_id}", {"handling_group": "labor", "complexity": "general"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    assert api.task(case_id, "sign_for")["group"] == "labor"


@SQLITE
def test_a_stale_form_says_the_task_was_completed_meanwhile(pages: Pages, api: Api) -> None:
    case = api.register(category="labor")
    task = api.task(case["id"], "dispatch")
    pages.login("dispatch1")
    pages.get(f"/tasks/{task['id']}")
    api.post("dispatch1", f"/tasks/{task['id']}/complete", json={"data": {"handling_group": "labor",
                                                                           "complexity": "simple"}})
    response = pages.post(f"/tasks/{task['id']}", {"handling_group": "family", "complexity": "general"})
    assert response.status_code == 409
    assert "已被他人办理" in response.get_data(as_text=True)


def test_designer_downloads_a_versions_files_from_its_page(pages: Pages) -> None:
    pages.login("designer1")
    html = pages.get("/designer/dispute_case/1")
    assert "下载全部文件（zip）" in html and 'href="/designer/dispute_case/1/files/dispatch.schema.json"' in html
    single = pages.client.get("/designer/dispute_case/1/files/dispute_case.bpmn")
    assert single.status_code == 200 and single.mimetype == "application/xml"
    assert single.data == (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_bytes()
    archive = pages.client.get("/designer/dispute_case/1/files.zip")
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        assert "dispute_case.bpmn" in bundle.namelist() and "dispatch.schema.json" in bundle.namelist()
    assert "未找到" in pages.get("/designer/dispute_case/1/files/nope.json", 404)
    pages.post("/logout", {})
    pages.login("dispatch1")
    assert "无权" in pages.get("/designer/dispute_case/1/files.zip", 403)


def test_an_imported_work_order_shows_when_the_source_received_it(pages: Pages, api: Api, tmp_path: Any) -> None:
    from app.services.intake import import_mapping, imports
    from tests.conftest import OPERATOR

    source = PROJECT_ROOT / "tests" / "data" / "imports" / "12345_sample.csv"
    (tmp_path / "day.csv").write_bytes(source.read_bytes())
    imports.run(OPERATOR, tmp_path / "day.csv", import_mapping.load("12345"))
    [found] = api.get("supervisor1", "/cases?q=外卖")["items"]
    walk_in = api.register()
    pages.login("supervisor1")
    html = pages.get(f"/cases/{found['id']}")
    assert "来源受理于 2026-11-27 10:02" in html and "登记于 2026-12-01 09:30" in html
    assert "来源受理于" not in pages.get(f"/cases/{walk_in['id']}")  # received when registered: said once


def test_pages_name_groups_and_procedures_and_explain_refusals_in_chinese(pages: Pages, api: Api) -> None:
    case = api.register(category="labor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    api.work("labor1", case["id"], "sign_for", {"accepted": True})
    pages.login("supervisor1")
    html = pages.get(f"/cases/{case['id']}")
    assert "劳动争议调解室" in html and '<strong class="procedure">人民调解</strong>' in html
    handle = api.task(case["id"], "handle")
    response = pages.post(f"/supervision/tasks/{handle['id']}/urge", {"note": "请加快"}, follow_redirects=True)
    assert "此任务未超期，无需催办" in response.get_data(as_text=True)
    pages.client.get("/lang/en?next=/")
    assert "Labour dispute mediation room" in pages.get(f"/cases/{case['id']}")
