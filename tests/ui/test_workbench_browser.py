"""The designer workbench in a real browser: open the deployed route, change a task's time limit in the
properties panel, see the problems of a broken form marked, save, validate and deploy — under the pages'
strict Content-Security-Policy (any violation fails the test, see test_browser.py)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.ui.test_browser import _login, _no_policy_violations, _shot, chromium, server  # noqa: F401

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _open_workbench(chromium: Any, server: str) -> Any:  # noqa: F811
    page = _login(chromium, server, "designer1")
    page.goto(f"{server}/designer")
    page.select_option("select[name=process_key]", "dispute_case")
    page.click("button[value=edit]")
    page.wait_for_selector(".djs-container [data-element-id=sign_for]")
    return page


def _click_connection(page: Any, element_id: str) -> None:
    """A flow's hit area is its stroke: click a point on it (its bounding box's middle may lie off the line)."""
    x, y = page.locator(f".djs-container [data-element-id={element_id}] .djs-hit").evaluate(
        """(line) => { const length = line.getTotalLength(); const p = line.getPointAtLength(length / 2);
                       const m = line.getScreenCTM();
                       return [p.x * m.a + p.y * m.c + m.e, p.x * m.b + p.y * m.d + m.f]; }""")
    page.mouse.click(x, y)


def test_designer_sets_a_time_limit_in_the_panel_validates_and_deploys(chromium: Any, server: str,  # noqa: F811
                                                                       api: Api) -> None:
    page = _open_workbench(chromium, server)
    page.click(".djs-container [data-element-id=sign_for] .djs-hit")
    limit = page.locator("[data-role=panel] input[name=timeLimit]")
    assert limit.input_value() == "P1D"
    limit.fill("P3D")
    assert page.text_content("[data-role=limit-explanation]") == "3 个工作日"
    limit.press("Tab")  # change: written to the diagram
    assert "未保存" in page.text_content("[data-role=status]")
    _shot(page, "designer-workbench")
    page.once("dialog", lambda dialog: dialog.accept())  # "new cases will use the new version"
    page.click("button[data-action=deploy]")
    page.wait_for_url(f"{server}/designer")
    assert "dispute_case" in page.text_content("main")
    latest = [d for d in api.get("designer1", "/process-definitions") if d["key"] == "dispute_case"][0]
    assert latest["version"] == 2
    bpmn = api.client.get("/api/v1/process-definitions/dispute_case/2/resources/dispute_case.bpmn",
                          headers=api.headers("designer1")).get_data(as_text=True)
    sign_for = bpmn[bpmn.index('id="sign_for"'):]
    sign_for = sign_for[:sign_for.index("</bpmn:userTask>")]
    assert 'name="timeLimit" value="&#34;P3D&#34;"' in sign_for or 'value="&quot;P3D&quot;"' in sign_for


def test_problems_are_listed_and_a_click_selects_the_element(chromium: Any, server: str) -> None:  # noqa: F811
    page = _open_workbench(chromium, server)
    page.click(".djs-container [data-element-id=dispatch] .djs-hit")
    page.fill("[data-role=panel] input[name=timeLimit]", "P3X")
    assert "不是 ISO 8601 时长" in page.text_content("[data-role=limit-explanation]")
    page.fill("[data-role=panel] input[name=timeLimit]", "three days")  # neither a duration nor Python
    page.press("[data-role=panel] input[name=timeLimit]", "Tab")
    page.wait_for_selector("[data-role=limit-explanation].wb-bad")
    # A condition that does not parse is refused by the server's check before it reaches the diagram.
    _click_connection(page, "f_reopen")
    condition = page.locator("[data-role=panel] textarea[name=condition]")
    condition.fill("not satisfied and and reopen_count")
    condition.press("Tab")
    page.wait_for_selector("[data-role=panel] .wb-bad")
    # A form with an unknown type: the whole draft is invalid, the problem names the file.
    page.click("[data-file='dispatch.schema.json']")
    page.once("dialog", lambda dialog: dialog.accept())
    schema = page.locator(".wb-json textarea").first
    schema.fill('{"type": "objekt", "properties": {}}')
    page.click("button[data-action=validate]")
    page.wait_for_selector(".wb-problem.error")
    assert "dispatch.schema.json" in page.text_content("[data-role=problems]")
    assert "问题" in page.text_content("[data-role=status]")


def test_a_comparison_tells_each_change_and_fits_the_page(chromium: Any, server: str, api: Api) -> None:  # noqa: F811
    draft = api.post("designer1", "/designer/drafts", 201, json={"process_key": "dispute_case"})
    bpmn = draft["files"]["dispute_case.bpmn"]
    start = bpmn.index('id="sign_for"')
    end = bpmn.index("</bpmn:userTask>", start)
    changed = bpmn[:start] + bpmn[start:end].replace("&quot;P1D&quot;", "&quot;P3D&quot;") + bpmn[end:]
    api.call("PUT", "designer1", f"/designer/drafts/{draft['id']}/files/dispute_case.bpmn", json={"text": changed})
    api.post("designer1", f"/designer/drafts/{draft['id']}/deploy", 201)
    page = _login(chromium, server, "designer1")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server}/designer/dispute_case/compare?from=1&to=2")
    row = page.locator("tr.change[data-element-id=sign_for] tr[data-property=timeLimit]")
    assert row.locator("td.old").inner_text() == '"P1D"' and row.locator("td.new").inner_text() == '"P3D"'
    assert not page.locator("tr.change[data-element-id=sign_for] .xml-pair").is_visible()  # raw XML on request
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # the changed task is scrolled into the middle of each diagram's box
    for side in range(2):
        box = page.locator(".side-by-side section").nth(side).locator(".svg-box")
        task = box.locator("[data-element-id=sign_for] .shape").first.bounding_box()
        frame = box.bounding_box()
        assert frame["x"] <= task["x"] and task["x"] + task["width"] <= frame["x"] + frame["width"]
        assert frame["y"] <= task["y"] and task["y"] + task["height"] <= frame["y"] + frame["height"]
    _shot(page, "designer-compare")


def test_uploaded_files_open_in_the_workbench_without_picking_them_again(chromium: Any, server: str,  # noqa: F811
                                                                         tmp_path: Any) -> None:
    from app.config import PROJECT_ROOT

    page = _login(chromium, server, "designer1")
    page.goto(f"{server}/designer")
    broken = tmp_path / "dispute_case.bpmn"
    source = (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_text(encoding="utf-8")
    broken.write_text(source.replace(">not category<", ">not (category<", 1), encoding="utf-8")
    page.set_input_files("input[name=files]", [str(broken)])
    page.click("button[value=workbench]")
    page.wait_for_selector(".djs-container [data-element-id=f_unclassified]", state="attached")
    assert page.locator("[data-role=files] [data-file='dispute_case.bpmn']").count() == 1


def test_a_computed_limit_is_edited_in_the_panel_and_new_cases_get_it(chromium: Any, server: str,  # noqa: F811
                                                                      api: Api) -> None:
    """The handling limit of dispute_case depends on the room and the complexity (an expression): the
    designer lengthens the complex cases' limit, deploys, and a complex case registered afterwards gets it."""
    def handle_due(case_id: int) -> str:
        api.work("dispatch1", case_id, "dispatch", {"handling_group": "mediation", "complexity": "complex"})
        api.work("mediator1", case_id, "sign_for", {"accepted": True})
        return str(api.task(case_id, "handle")["due_at"])

    before = api.register(category="neighbor")
    page = _open_workbench(chromium, server)
    page.click(".djs-container [data-element-id=handle] .djs-hit")
    limit = page.locator("[data-role=panel] input[name=timeLimit]")
    expression = limit.input_value()
    assert '"complex": "P20D"' in expression
    assert "表达式" in page.text_content("[data-role=limit-explanation]")
    limit.fill(expression.replace('"complex": "P20D"', '"complex": "P25D"'))
    limit.press("Tab")
    page.wait_for_selector("[data-role=limit-explanation].wb-ok")  # checked by the engine's parser
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=deploy]")
    page.wait_for_url(f"{server}/designer")
    after = api.register(category="neighbor")
    assert handle_due(after["id"]) > handle_due(before["id"])  # five working days later, same registration time


def test_a_decision_table_row_is_edited_and_deployed(chromium: Any, server: str, api: Api) -> None:  # noqa: F811
    page = _open_workbench(chromium, server)
    page.click("[data-file='routing.dmn']")
    cell = page.locator("td[data-element-id=out_complexity_neighbor]")
    cell.wait_for()
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type('"complex"')
    page.click("h1")  # leave the cell
    assert "未保存" in page.text_content("[data-role=status]")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=deploy]")
    page.wait_for_url(f"{server}/designer")
    case = api.register(category="neighbor")
    dispatch = api.get("dispatch1", f"/tasks/{api.task(case['id'], 'dispatch')['id']}")
    assert dispatch["data"]["complexity"] == "complex"  # the routing table's new suggestion


def test_a_form_field_added_shows_in_the_preview(chromium: Any, server: str) -> None:  # noqa: F811
    page = _open_workbench(chromium, server)
    page.click("[data-file='feedback.schema.json']")
    schema = page.locator(".wb-json textarea").first
    text = schema.input_value()
    schema.fill(text.replace('"properties": {', '"properties": {"visit_channel": {"type": "string", '
                             '"title": "回访方式", "enum": ["phone", "visit"], "x-enumNames": ["电话", "上门"]},', 1))
    page.wait_for_selector(".wb-preview :text('回访方式')")
    assert "JSON 正确" in page.text_content(".wb-json .wb-check")
