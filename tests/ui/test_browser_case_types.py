"""A browser registers a case of a newly deployed case type through the registration page's chooser
(Playwright driving the system Chromium, under the pages' strict Content-Security-Policy)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_case_types_api import deploy_stall_permit
from tests.conftest import Api
from tests.ui.test_browser import _login, _no_policy_violations, chromium, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_intake_chooses_a_new_case_type_and_registers_it(chromium: Any, server: str, api: Api) -> None:  # noqa: F811
    deploy_stall_permit(api)
    intake = _login(chromium, server, "intake1")
    intake.click("text=受理登记")
    intake.click("nav.case-types >> text=摊位临时占道申请")
    intake.wait_for_selector("input[name=stall_days]")
    assert intake.locator("input[name='parties[0].name']").count() == 0
    intake.fill("input[name=title]", "元宵灯会摊位")
    intake.select_option("select[name=source]", "walk_in")
    intake.select_option("select[name=category]", "night_market")
    intake.fill("input[name=stall_days]", "5")
    intake.click("form.card button.primary")
    intake.wait_for_selector(".case-type")
    assert "摊位临时占道申请" in intake.locator(".heading .case-type").inner_text()
    case_id = int(intake.url.rsplit("/", 1)[-1])
    assert api.get("admin1", f"/cases/{case_id}")["case_type"] == "stall_permit"
    assert [t["name"] for t in api.get("reviewer1", "/tasks")["items"]] == ["review"]
