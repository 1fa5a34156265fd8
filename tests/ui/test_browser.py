"""Browser journeys with Playwright driving the system Chromium: each kind of user, end to end.

Screenshots of the main pages go to test-artifacts/ (and to docs/ when tools/screenshots.py asks for it
through CONCORD_SCREENSHOT_DIR). Time moves with the frozen clock, never by sleeping.

Every page a journey opens is watched: a Content-Security-Policy violation, a console message about one,
or a script error fails the test (the pages must work under the strict policy they are served with)."""
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
# Reports every securitypolicyviolation event of every document to the test, before any page script runs.
VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.concordViolation(event.effectiveDirective + " refused " + (event.blockedURI || "?") + " at " +
                          event.sourceFile + ":" + event.lineNumber + " " + event.sample);
}, true);
"""


class Watch:
    """What went wrong in the pages of one browser context: CSP violations (the DOM event and Chromium's
    console message), console errors about the policy, uncaught script errors."""

    def __init__(self, context: Any) -> None:
        self.problems: list[str] = []
        context.expose_binding("concordViolation",
                               lambda source, text: self.problems.append(f"{source['page'].url}: {text}"))
        context.add_init_script(VIOLATION_LISTENER)
        context.on("page", self.page)

    def page(self, page: Any) -> None:
        page.on("console", lambda message: self.problems.append(f"{page.url}: console: {message.text}")
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
                else None)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: script error: {error}"))

    def settle(self, page: Any) -> list[str]:
        """The problems so far, once the events the page has queued were delivered."""
        if not page.is_closed():
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")
        return self.problems


_WATCHES: list[tuple[Watch, Any]] = []


@pytest.fixture(autouse=True)
def _no_policy_violations() -> Iterator[None]:
    _WATCHES.clear()
    yield
    problems = [problem for watch, page in _WATCHES for problem in watch.settle(page)]
    _WATCHES.clear()
    assert problems == []


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


def _page(chromium: Any) -> Any:
    context = chromium.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    watch = Watch(context)
    page = context.new_page()
    _WATCHES.append((watch, page))
    return page


def _login(chromium: Any, base: str, user: str) -> Any:
    page = _page(chromium)
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
    assert officer.locator("[data-error-for=handling_group]").inner_text() == "「承办单位」为必填项"
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

    # The handler's side: the unread badge, the urged row, and the note above the case and the form.
    handler = _login(chromium, server, "labor1")
    assert handler.locator("header .nav-badge").count() == 1
    row = handler.locator(f"tr[data-case-no='{case['case_no']}']").first
    assert row.locator(".urge-mark").count() == 1
    row.locator("td a", has_text="签收").click()
    handler.wait_for_selector("aside.case-panel")
    assert handler.locator(".urge", has_text="请今日内联系当事人并反馈").count() == 1
    panel = handler.locator("aside.case-panel").inner_text()
    assert "劳动人事争议" in panel and "分流交办" in panel and "labor" not in panel
    _shot(handler, "task")


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


def test_the_watch_sees_a_policy_violation(chromium: Any, server: str) -> None:
    """The watch is not blind: an inline style the policy refuses is reported (then forgotten)."""
    page = _page(chromium)
    watch = _WATCHES[-1][0]
    page.goto(f"{server}/login")
    page.evaluate("""() => { document.body.insertAdjacentHTML("beforeend", "<p style='color: red'>x</p>");
                             const script = document.createElement("script");
                             script.textContent = "window.ran = true"; document.body.appendChild(script); }""")
    problems = watch.settle(page)
    assert any("style-src" in problem for problem in problems), problems
    assert any("script-src" in problem for problem in problems), problems
    assert page.evaluate("() => window.ran") is None
    problems.clear()


def test_every_page_works_under_the_content_security_policy(chromium: Any, server: str, app: Any, api: Any,
                                                             frozen_clock: Any, tmp_path: Path) -> None:
    """A walk through every kind of page, clicking what runs script; the autouse watch fails the test on
    any violation. What the policy would break if it were wrong is checked on the way: the stylesheets
    apply (to the diagrams too), the parties' add-row button and the zoom buttons work."""
    from app.services.designer import deployments
    from app.services.kernel import timers
    from tests.conftest import BUNDLE, OPERATOR

    late = api.register(category="labor")
    api.work("dispatch1", late["id"], "dispatch", {"handling_group": "labor", "complexity": "general"})
    frozen_clock.advance(timedelta(days=7))
    timers.run_once()
    changed = BUNDLE["dispute_case.bpmn"].replace('name="分流交办"'.encode(), 'name="分流与交办"'.encode(), 1)
    deployments.deploy(OPERATOR, {**BUNDLE, "dispute_case.bpmn": changed})

    intake = _login(chromium, server, "intake1")
    policy = intake.evaluate("() => fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert intake.evaluate("() => getComputedStyle(document.querySelector('header.top')).display") == "flex"
    intake.goto(f"{server}/cases/new")
    intake.click("button.add-row")
    assert intake.locator("input[name='parties[1].name']").count() == 1
    intake.click("form.card button.primary")  # nothing filled in: the form comes back with its errors
    assert intake.locator("[data-error-for=title]").inner_text() == "「事项标题」为必填项"
    case = api.register(category="labor")
    intake.goto(f"{server}/cases/{case['id']}")
    box = intake.locator("#case-diagram-box")
    active = box.locator("[data-element-id=dispatch] .shape").first
    assert active.evaluate("shape => getComputedStyle(shape).fill") == "rgb(255, 243, 224)"  # diagram.css applies
    svg = box.locator("svg")
    natural = float(svg.get_attribute("width"))
    intake.click("#case-diagram-box >> xpath=preceding-sibling::div[1] >> button[data-zoom=in]")
    assert float(svg.get_attribute("width")) == pytest.approx(natural * 1.25, abs=1)
    for how in ("out", "fit", "actual"):
        intake.click(f"#case-diagram-box >> xpath=preceding-sibling::div[1] >> button[data-zoom={how}]")
    assert float(svg.get_attribute("width")) == pytest.approx(natural, abs=1)
    intake.goto(f"{server}/cases?q=噪音")
    intake.goto(f"{server}/no-such-page")
    intake.click("a.lang")
    intake.wait_for_selector("html[lang=en]")

    officer = _login(chromium, server, "dispatch1")
    row = officer.locator(f"tr[data-task=dispatch]:has-text('{case['case_no']}')").first
    row.locator("button", has_text="签领").click()
    officer.wait_for_selector("select[name=handling_group]")
    officer.select_option("select[name=handling_group]", "")
    officer.click("button[value=complete]")
    assert officer.locator("[data-error-for=handling_group]").inner_text() == "「承办单位」为必填项"

    supervisor = _login(chromium, server, "supervisor1")
    assert supervisor.locator(f"tr[data-case-no='{late['case_no']}']").count() >= 1
    supervisor.locator(f"tr[data-case-no='{late['case_no']}'] summary", has_text="催办").first.click()
    supervisor.goto(f"{server}/reports?view=summary&group_by=category&from=2026-12-01&to=2026-12-08")
    assert supervisor.locator("section.chart svg").count() == 1
    supervisor.goto(f"{server}/reports?view=weekly")
    supervisor.goto(f"{server}/reports?view=daily")
    supervisor.goto(f"{server}/reports?view=ranking")

    designer = _login(chromium, server, "designer1")
    source = (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_text(encoding="utf-8")
    broken = tmp_path / "dispute_case.bpmn"
    broken.write_text(source.replace(">not category<", ">not (category<", 1), encoding="utf-8")
    designer.set_input_files("input[name=files]", [str(broken)])
    designer.click("button[value=validate]")
    marked = designer.locator(".preview [data-element-id=f_unclassified] .flow")
    assert marked.evaluate("flow => getComputedStyle(flow).stroke") == "rgb(198, 40, 40)"
    designer.goto(f"{server}/designer/dispute_case/2")
    designer.click("button[data-zoom=fit]")
    designer.goto(f"{server}/designer/dispute_case/compare?from=1&to=2")
    changed_task = designer.locator(".side-by-side section").nth(1).locator("[data-element-id=dispatch] .shape")
    assert changed_task.first.evaluate("shape => getComputedStyle(shape).fill") == "rgb(255, 248, 225)"
    designer.locator(".side-by-side section").first.locator("button[data-zoom=in]").click()


def test_the_diagram_svg_of_the_api_draws_itself_under_its_own_policy(chromium: Any, server: str, api: Any) -> None:
    """Opened on its own, the API's SVG is a document with a policy allowing nothing but its own
    stylesheet (by hash): it is still drawn in colour, and nothing is refused."""
    case = api.register(category="labor")
    page = _page(chromium)
    page.context.set_extra_http_headers(api.headers("intake1"))
    response = page.goto(f"{server}/api/v1/cases/{case['id']}/diagram.svg")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    active = page.locator("[data-element-id=dispatch] .shape").first
    assert active.evaluate("shape => getComputedStyle(shape).fill") == "rgb(255, 243, 224)"
    assert active.evaluate("shape => getComputedStyle(shape).strokeWidth") == "3px"


def test_an_administrator_adds_a_group_and_a_user_who_then_works_a_task_of_it(chromium: Any, server: str,
                                                                              api: Any) -> None:
    import json

    from app.services.designer import deployments
    from tests.conftest import BUNDLE, OPERATOR

    admin = _login(chromium, server, "admin1")
    admin.click("text=用户与机构管理")
    groups = admin.locator("section#groups")
    groups.locator("summary", has_text="新增组").click()
    adding = groups.locator("form.form")
    adding.locator("input[name=key]").fill("grid_office")
    adding.locator("input[name=name]").fill("网格办")
    adding.locator("select[name=kind]").select_option("department")
    adding.locator("select[name=centre]").select_option("chengguan")
    adding.locator("button.primary").click()
    assert "已新增组 网格办" in admin.locator(".flash.success").inner_text()
    assert "网格办" in admin.locator("li[data-centre=chengguan]").first.inner_text()

    users = admin.locator("section#users")
    users.locator("summary", has_text="新增账号").click()
    form = users.locator("form.form")
    form.locator("input[name=username]").fill("grid1")
    form.locator("input[name=display_name]").fill("网格员一")
    form.locator("input[name=password]").fill("short")
    form.locator("input[name=roles][value=handler]").check()
    form.locator("input[name=groups][value=grid_office]").check()
    form.locator("input[name=password]").evaluate("input => input.removeAttribute('minlength')")
    form.locator("button.primary").click()
    assert "10" in admin.locator(".flash.error").inner_text()  # refused in Chinese, typed values kept
    form = admin.locator("section#users form.form")
    assert form.locator("input[name=username]").input_value() == "grid1"
    assert form.locator("input[name=groups][value=grid_office]").is_checked()
    form.locator("input[name=password]").fill("grid-password-1")
    form.locator("button.primary").click()
    assert "已创建账号 grid1" in admin.locator(".flash.success").inner_text()
    assert "网格办" in admin.locator("tr[data-username=grid1]").inner_text()
    _shot(admin, "admin")

    # The designer offers the new group to the dispatcher; a case is dispatched to it.
    dispatch_form = json.loads(BUNDLE["dispatch.schema.json"])
    choice = dispatch_form["properties"]["handling_group"]
    choice["enum"].append("grid_office")
    choice["x-enumNames"].append("网格办")
    deployments.deploy(OPERATOR, {**BUNDLE, "dispatch.schema.json": json.dumps(dispatch_form).encode()})
    case = api.register(category="neighbor")
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "grid_office", "complexity": "simple"})

    worker = _page(chromium)
    worker.set_default_timeout(15000)
    worker.goto(f"{server}/login")
    worker.fill("input[name=username]", "grid1")
    worker.fill("input[name=password]", "grid-password-1")
    worker.click("button.primary")
    row = worker.locator(f"tr[data-case-no='{case['case_no']}']").first
    assert "网格办" in row.inner_text() and "grid_office" not in row.inner_text()
    row.locator("button", has_text="签领").click()
    worker.check("input[name=accepted][value=true]")
    worker.click("button[value=complete]")
    worker.wait_for_url(f"{server}/inbox")
    assert "已办理" in worker.locator(".flash.success").inner_text()
    assert [t["name"] for t in api.get("admin1", f"/cases/{case['id']}")["active_tasks"]] == ["handle"]
