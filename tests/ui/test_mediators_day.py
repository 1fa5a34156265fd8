"""A mediator's day in a real browser (issue 17): find a case by its 12345 work-order number, open the
task, read the case's facts and the dispatcher's note beside the form, save a draft, attach the signed
agreement, come back to the draft and complete the mediation."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.ui.test_browser import _login, _no_policy_violations, _shot, chromium, server  # noqa: F401

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
AGREEMENT = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_mediator_finds_the_case_by_work_order_and_settles_it(chromium: Any, server: str,  # noqa: F811
                                                                api: Api, tmp_path: Path) -> None:
    case = api.register(title="物业费争议", category="property_mgmt", source="hotline_12345",
                        external_id="GD20261127000101")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "general",
                                                   "dispatch_note": "请先核实双方缴费记录"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})

    page = _login(chromium, server, "mediator1")
    page.fill("form.filters input[name=q]", "GD20261127000101")
    page.click("form.filters button")
    row = page.locator(f"tr[data-case-no='{case['case_no']}']")
    assert row.count() == 1 and "物业费争议" in row.inner_text()
    row.locator("a", has_text="办理").first.click()

    panel = page.locator(".case-panel")
    assert "物业费争议" in panel.inner_text() and "12345" in panel.inner_text()
    assert "请先核实双方缴费记录" in panel.inner_text()  # what the dispatcher recorded, by its label
    page.check("input[name=outcome][value=resolved]")
    page.fill("textarea[name=agreement_summary]", "物业公司减免三个月物业费")
    page.click("button[value=draft]")
    assert page.locator(".draft-saved").count() == 1

    agreement = tmp_path / "调解协议书.pdf"
    agreement.write_bytes(AGREEMENT)
    page.goto(f"{server}/cases/{case['id']}")
    page.set_input_files("#attachments input[type=file]", str(agreement))
    page.click("#attachments button")
    assert page.locator("#attachments [data-attachment]").count() == 1

    task = api.task(case["id"], "handle")
    page.goto(f"{server}/tasks/{task['id']}")
    assert page.input_value("textarea[name=agreement_summary]") == "物业公司减免三个月物业费"  # the draft
    assert "调解协议书.pdf" in page.locator(".case-panel").inner_text()
    _shot(page, "mediator-task")
    page.click("button[value=complete]")
    page.wait_for_url(f"{server}/inbox*")  # back to the inbox, with the search the mediator left on it
    assert "已办理" in page.locator(".flash.success").inner_text() and "GD20261127000101" in page.url
    assert "feedback" in [t["name"] for t in api.get("admin1", f"/cases/{case['id']}")["active_tasks"]]
