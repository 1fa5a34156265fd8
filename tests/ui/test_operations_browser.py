"""The 流程运维 page in the browser: an operator cancels a case and migrates the others to a new version."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_operations_migrate import _deploy
from tests.ui.test_browser import _login, _no_policy_violations, _shot, chromium, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_an_operator_cancels_a_case_and_migrates_the_rest_from_the_operations_page(
        chromium: Any, server: str, api: Any) -> None:  # noqa: F811 (fixtures)
    source = _deploy("receive", "接收", extra=False)
    duplicate, kept = api.register(), api.register()
    target = _deploy("accept", "受理", extra=True)
    admin = _login(chromium, server, "admin1")
    admin.click("nav >> text=流程运维")
    row = admin.locator(f"tr[data-case-no='{duplicate['case_no']}']")
    assert "运行中" in row.inner_text() and "接收" in row.inner_text()  # the waiting task by its title
    row.locator("summary", has_text="操作").click()
    row.locator("input[name=reason]").fill("重复登记")
    row.locator("button", has_text="撤销案件").click()
    assert "已撤销" in admin.locator(".flash.success").inner_text()
    assert admin.locator(f"tr[data-case-no='{duplicate['case_no']}']").get_attribute("data-state") == "cancelled"

    form = admin.locator("#migration form")
    form.locator("input[name=from_version]").fill(str(source))
    form.locator("input[name=to_version]").fill(str(target))
    form.locator("textarea[name=mapping]").fill("receive=accept")
    form.locator("button", has_text="迁移").click()  # a dry run first (checked by default)
    report = admin.locator(".migration-report")
    assert report.get_attribute("data-migrable") == "1" and report.get_attribute("data-migrated") == "0"
    assert "试运行" in report.inner_text()
    admin.locator("#migration input[name=dry_run]").uncheck()
    admin.locator("#migration form button", has_text="迁移").click()
    assert admin.locator(".migration-report").get_attribute("data-migrated") == "1"
    _shot(admin, "operations")
    admin.goto(f"{server}/cases/{kept['id']}")
    assert "将案件迁移到其他流程版本" in admin.locator("ol.timeline").inner_text()
    assert "受理" in admin.locator("ul.tasks").inner_text()
    admin.goto(f"{server}/cases/{duplicate['id']}")
    assert "已撤销" in admin.locator(".badge.status").inner_text()
    assert "重复登记" in admin.locator("ol.timeline").inner_text()
