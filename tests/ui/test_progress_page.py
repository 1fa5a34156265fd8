"""The public progress page (一案一码): no login, a plain GET form, the answer or a clear message."""
from __future__ import annotations

from typing import Any

from tests.conftest import Api

APPLICANT = {"name": "张三", "role": "applicant", "phone": "13800138000", "id_number": "11010519491231002X"}


def _page(client: Any, address: str = "203.0.113.9", **query: str) -> Any:
    return client.get("/progress", query_string=query, environ_base={"REMOTE_ADDR": address})


def test_the_page_shows_a_form_without_login(client: Any) -> None:
    response = _page(client)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form method="get"' in html and 'name="case_no"' in html and 'name="phone"' in html
    assert "案件进度查询" in html and "退出" not in html


def test_the_applicant_sees_the_status_and_milestones(api: Api, client: Any) -> None:
    case = api.register(category="neighbor", parties=[APPLICANT])
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    response = _page(client, case_no=case["case_no"], phone="138 0013 8000")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    result = html.split('class="card narrow progress-result"')[1]
    for shown in (case["case_no"], "已交办", "受理登记", "分流交办", "12-01 09:30"):
        assert shown in result, shown
    for personal in ("张三", "13800138000", "11010519491231002X", "楼上夜间噪音扰民"):
        assert personal not in html, personal


def test_a_wrong_phone_gets_a_clear_message_and_too_many_tries_wait(api: Api, client: Any) -> None:
    case = api.register(category="neighbor", parties=[APPLICANT])
    wrong = _page(client, case_no=case["case_no"], phone="13800138001")
    assert wrong.status_code == 404 and "未找到与该案件编号和电话相符的案件" in wrong.get_data(as_text=True)
    assert "progress-result" not in wrong.get_data(as_text=True)
    for _ in range(9):
        _page(client, case_no=case["case_no"], phone="13800138001")
    refused = _page(client, case_no=case["case_no"], phone="13800138000")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "查询过于频繁，请 60 秒后再试。" in refused.get_data(as_text=True)


def test_whatever_is_typed_is_a_plain_answer(client: Any) -> None:
    for case_no in ("ZZ-2026-000001\x00", "<script>", "x" * 500, "ZZ-2026-%"):
        response = _page(client, address="198.51.100.77", case_no=case_no, phone="13800138000\x00")
        assert response.status_code in (400, 404), (case_no, response.status_code)
