"""Browser journeys with Playwright driving the system Chromium: each kind of user, end to end.

Screenshots of the main pages go to test-artifacts/ (and to docs/ when tools/screenshots.py asks for it
through CONCORD_SCREENSHOT_DIR). Time moves with the frozen clock, never by sleeping."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app.config import PROJECT_ROOT
from tests.conftest import IN_CI, PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
DOCS = os.environ.get("CONCORD_SCREENSHOT_DIR")
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI=true but {CHROMIUM} is missing (apt-get install -y chromium in .ci/run)")
        pytest.skip(f"browser tests need {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if DOCS:
        page.screenshot(path=str(Path(DOCS) / f"{name}.png"), full_page=True)


def _login(chromium: Any, base: str, user: str) -> Any:
    page = chromium.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_selector(f"[data-user='{user}']")
    return page


def test_officers_register_claim_and_complete_and_see_the_case(chromium: Any, server: str, app: Any) -> None:
    intake = _login(chromium, server, "intake1")
    intake.click("text=受理登记")
    intake.fill("input[name=title]", "小区噪音扰民")
    intake.select_option("select[name=source]", "walk_in")
    intake.select_option("select[name=category]", "labor")
    intake.fill("textarea[name=description]", "夜间施工噪音，多次反映未果。")
    intake.fill("input[name='parties[0].name']", "王小明")
    intake.check("input[name='parties[0].role'][value=applicant]")
    intake.fill("input[name='parties[0].phone']", "13800138000")
    intake.click("button.add-row")
    intake.fill("input[name='parties[1].name']", "某建筑公司")
    intake.check("input[name='parties[1].role'][value=respondent]")
    _shot(intake, "register")
    intake.click("form.card button.primary")
    intake.wait_for_selector("#case-diagram-box svg")
    assert intake.locator("#case-diagram-box [data-element-id=dispatch]").get_attribute("class") == "el userTask active"
    assert intake.locator("ol.timeline li[data-action='case.registered']").count() == 1
    _shot(intake, "case")

    officer = _login(chromium, server, "dispatch1")
    row = officer.locator("tr[data-task=dispatch]").first
    assert "正常" in row.inner_text() and "剩余" in row.inner_text()
    _shot(officer, "inbox")
    row.locator("button", has_text="签领").click()
    officer.wait_for_selector("select[name=handling_group]")
    officer.select_option("select[name=handling_group]", "")  # clear the routing table's suggestion
    officer.fill("textarea[name=dispatch_note]", "请劳动争议调解室尽快联系当事人")
    officer.click("button[value=complete]")
    assert officer.locator("[data-error-for=handling_group]").inner_text() == "必填"
    assert officer.input_value("textarea[name=dispatch_note]") == "请劳动争议调解室尽快联系当事人"
    _shot(officer, "form")
    officer.select_option("select[name=handling_group]", "labor")
    officer.check("input[name=complexity][value=general]")
    officer.click("button[value=complete]")
    officer.wait_for_url(f"{server}/inbox")
    assert "已办理" in officer.locator(".flash.success").inner_text()

    intake.reload()
    assert intake.locator("#case-diagram-box [data-element-id=dispatch]").get_attribute("class") == "el userTask done"
    assert intake.locator("#case-diagram-box [data-element-id=sign_for]").get_attribute("class") == \
        "el userTask active"


def test_supervisor_urges_an_overdue_task(chromium: Any, server: str, api: Any, frozen_clock: Any) -> None:
    from app.services.kernel import timers

    case = api.register(category="labor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    frozen_clock.advance(timedelta(days=7))
    timers.run_once()
    supervisor = _login(chromium, server, "supervisor1")
    row = supervisor.locator(f"tr[data-case-no='{case['case_no']}']").first
    assert "超期" in row.inner_text() or "挂牌" in row.inner_text()
    _shot(supervisor, "board")
    row.locator("summary", has_text="催办").click()
    row.locator("textarea[name=note]").fill("请今日内联系当事人并反馈")
    row.locator("button", has_text="催办").click()
    assert "已催办" in supervisor.locator(".flash.success").inner_text()
    supervisor.goto(f"{server}/cases/{case['id']}")
    assert "请今日内联系当事人并反馈" in supervisor.locator("ol.timeline").inner_text()
    supervisor.goto(f"{server}/reports?view=summary&group_by=category&from=2026-12-01&to=2026-12-08")
    assert "劳动人事争议" in supervisor.locator("section.report").inner_text()
    _shot(supervisor, "reports")


def test_designer_sees_a_broken_bpmn_marked(chromium: Any, server: str, tmp_path: Path) -> None:
    source = (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_text(encoding="utf-8")
    broken = tmp_path / "dispute_case.bpmn"
    broken.write_text(source.replace(">not category<", ">not (category<", 1), encoding="utf-8")
    designer = _login(chromium, server, "designer1")
    designer.wait_for_selector(".definition[data-key=dispute_case]")
    others = [str(p) for d in ("forms", "processes") for p in sorted((PROJECT_ROOT / d).iterdir())
              if p.suffix in (".json", ".dmn")]
    designer.set_input_files("input[name=files]", [str(broken), *others])
    designer.click("button[value=validate]")
    assert designer.locator("tr.problem").count() == 1
    problem = designer.locator("tr.problem").first
    assert problem.get_attribute("data-element-id") == "f_unclassified"
    assert "dispute_case.bpmn" in problem.inner_text()
    marked = designer.locator(".preview [data-element-id=f_unclassified]")
    assert marked.get_attribute("class") == "el sequenceFlow error"
    _shot(designer, "designer")


def test_every_demo_user_logs_in_and_lands_on_a_working_page(chromium: Any, server: str) -> None:
    from app.services.demo import DEMO_USERS

    for username, display_name, roles, _groups in DEMO_USERS:
        page = _login(chromium, server, username)
        body = page.inner_text("body")
        assert display_name in body and "Traceback" not in body, username
        menu = page.inner_text("nav")
        if "supervisor" in roles or "admin" in roles:
            assert "研判分析" in menu, username
        if "designer" in roles:
            assert "流程设计" in menu or "Process designer" in menu, username
        page.context.close()


def test_a_wide_diagram_zooms_to_fit_and_back(chromium: Any, server: str) -> None:
    designer = _login(chromium, server, "designer1")
    designer.goto(f"{server}/designer/dispute_case/1")
    svg = designer.locator(".svg-box svg").first
    natural = float(svg.get_attribute("viewBox").split()[2])
    box_width = designer.locator(".svg-box").first.evaluate("box => box.clientWidth")
    assert natural > box_width  # the route is wider than the page: the reason for zooming
    designer.click("button[data-zoom=fit]")
    assert abs(float(svg.get_attribute("width")) - (box_width - 2)) <= 1
    assert svg.evaluate("svg => svg.getBoundingClientRect().width") <= box_width
    fitted = float(svg.get_attribute("width"))
    designer.click("button[data-zoom=in]")
    assert float(svg.get_attribute("width")) == pytest.approx(fitted * 1.25, abs=1)
    designer.click("button[data-zoom=out]")
    designer.click("button[data-zoom=out]")
    assert float(svg.get_attribute("width")) == pytest.approx(fitted / 1.25, abs=1)
    designer.click("button[data-zoom=actual]")
    assert float(svg.get_attribute("width")) == pytest.approx(natural, abs=1)
    assert designer.locator(".zoom-bar").first.get_attribute("aria-label") == "缩放"
