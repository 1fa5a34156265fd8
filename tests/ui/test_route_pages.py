"""The new routes' forms on the task pages: labels, radio choices, checkboxes and prefilled choices,
filled in and sent as an officer would."""
from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.ui.conftest import Pages

REFERRAL = {"case_type": "police_referral", "title": "楼道堆物纠纷", "source": "police_110", "external_id": "110-UI-1",
            "description": "邻居互相指责堆放杂物，发生争吵。", "category": "property_mgmt", "risk_level": "medium",
            "parties": [{"name": "吴九", "role": "applicant"}]}


def _task(api: Api, case_id: int, name: str) -> dict[str, Any]:
    return api.task(case_id, name)


def test_a_referral_is_handled_by_the_police_and_the_joint_desk_on_their_pages(pages: Pages, api: Api) -> None:
    case = api.post("intake1", "/cases", 201, json=REFERRAL)
    police = _task(api, case["id"], "police_handle")
    pages.login("police1")
    html = pages.get(f"/tasks/{police['id']}")
    assert "公安首接调处" in html and "现场调处结果" in html and "未化解，移交联调联处" in html
    response = pages.post(f"/tasks/{police['id']}", {"settled": "false", "handling_note": "现场劝解无效",
                                                      "transfer_reason": "双方分歧较大", "risk_level": "medium"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    joint = _task(api, case["id"], "joint_handle")
    pages.login("joint1")
    html = pages.get(f"/tasks/{joint['id']}")
    assert 'type="checkbox"' in html and "司法所" in html and "物业纠纷调解室" in html
    response = pages.client.post(f"/tasks/{joint['id']}", data={
        "csrf_token": pages.csrf(), "participants": ["police", "justice"], "settled": "true",
        "handling_note": "联调达成清理约定", "handling_group": "property", "risk_level": "low"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    follow_up = _task(api, case["id"], "follow_up")
    assert follow_up["group"] == "property"
    assert api.get("admin1", f"/cases/{case['id']}")["risk_level"] == "low"


def test_an_instruction_report_is_reviewed_on_the_centres_page_naming_the_department(pages: Pages, api: Api) -> None:
    case = api.post("intake1", "/cases", 201, json={
        "case_type": "instruction", "title": "排查消防通道占用", "source": "centre", "description": "排查并反馈。",
        "deadline": "2026-12-09", "departments": ["consumer"]})
    api.work("consumer1", case["id"], "sign_instruction", {"signed": True})
    api.work("consumer1", case["id"], "report_instruction", {"report": "已排查商户20家"})
    review = _task(api, case["id"], "review_report")
    pages.login("dispatch1")
    html = pages.get(f"/tasks/{review['id']}")
    assert "审核反馈" in html and "消费纠纷调解室" in html and "退回理由" in html
    response = pages.post(f"/tasks/{review['id']}", {"department": "consumer", "accepted": "true"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    assert api.get("admin1", f"/cases/{case['id']}")["status"] == "closed"
