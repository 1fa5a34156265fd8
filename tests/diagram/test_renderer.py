"""The BPMN DI → SVG renderer on every diagram the platform ships, and on the parts BPMN modelers draw."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from app.config import PROJECT_ROOT
from app.diagram import DiagramError, diff_elements, element_fingerprints, load_diagram, process_ids, render_svg

SVG = "{http://www.w3.org/2000/svg}"
SHIPPED = sorted((PROJECT_ROOT / "processes").glob("*.bpmn"))
DATA = Path(__file__).parent / "data"


def _svg(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def _element(svg: etree._Element, element_id: str) -> etree._Element:
    found = svg.xpath("//*[@data-element-id=$id]", id=element_id)
    assert found, f"{element_id} is not drawn"
    return found[0]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_diagram_draws_every_shape_flow_and_label(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for process_id in process_ids(source):
        diagram = load_diagram(source, process_id)
        svg = _svg(render_svg(source, process_id=process_id))
        texts = "".join(svg.itertext())
        for shape in diagram.shapes:
            group = _element(svg, shape.element_id)
            assert group.get("class", "").split()[:2] == ["el", shape.kind]
            for word in shape.name.split():
                assert word[:1] in texts
        for edge in diagram.edges:
            path_d = _element(svg, edge.element_id).find(f"{SVG}path").get("d")
            assert path_d.count("L") == len(edge.points) - 1
        x, y, width, height = (float(v) for v in svg.get("viewBox").split())
        extent = diagram.extent()
        assert x <= extent.x and y <= extent.y
        assert x + width >= extent.x + extent.width and y + height >= extent.y + extent.height


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_diagrams_have_pools_lanes_tasks_gateways_and_events(path: Path) -> None:
    kinds = {shape.kind for shape in load_diagram(path.read_text(encoding="utf-8")).shapes}
    assert {"participant", "lane", "startEvent", "endEvent"} <= kinds
    # Work of its own, or a call of a process that has it (instruction calls one per department).
    assert kinds & {"userTask", "callActivity"}


def test_the_shipped_diagrams_use_user_tasks_gateways_and_calls() -> None:
    kinds = {shape.kind for path in SHIPPED for shape in load_diagram(path.read_text(encoding="utf-8")).shapes}
    assert {"userTask", "exclusiveGateway", "inclusiveGateway", "callActivity", "boundaryEvent"} <= kinds


def test_marks_colour_completed_and_active_elements_and_the_path_between() -> None:
    source = (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_text(encoding="utf-8")
    marks = {"registered": "done", "init_case": "done", "gw_classified": "done", "gw_triaged": "done",
             "route_case": "done", "gw_to_dispatch": "done", "dispatch": "active"}
    svg = _svg(render_svg(source, marks=marks, id_prefix="case7"))
    assert "done" in _element(svg, "init_case").get("class").split()
    assert "active" in _element(svg, "dispatch").get("class").split()
    assert "done" in _element(svg, "f_start").get("class").split()
    assert "done" in _element(svg, "f_dispatch").get("class").split()  # into the active task
    assert _element(svg, "sign_for").get("class") == "el userTask"
    assert _element(svg, "f_unclassified").get("class") == "el sequenceFlow"  # the branch not taken
    marker = _element(svg, "f_dispatch").find(f"{SVG}path").get("marker-end")
    assert marker == "url(#case7-arrow-done)" and svg.xpath("//*[@id='case7-arrow-done']")


def test_the_renderer_draws_the_bpmn_vocabulary() -> None:
    source = (DATA / "vocabulary.bpmn").read_text(encoding="utf-8")
    svg = _svg(render_svg(source, marks={"bad_gateway": "error"}))
    classes = {g.get("data-element-id"): g.get("class") for g in svg.iter(f"{SVG}g") if g.get("data-element-id")}
    assert classes["timer_start"] == "el startEvent"
    assert classes["bad_gateway"] == "el parallelGateway error"
    assert classes["flow_msg"] == "el messageFlow"
    # Non-interrupting boundary timer: dashed rings; an end event: a thick ring; a call activity: thick border.
    assert "dashed" in _element(svg, "escalate").find(f"{SVG}circle").get("class")
    assert "thick" in _element(svg, "done_end").find(f"{SVG}circle").get("class")
    assert "thick" in _element(svg, "call_court").find(f"{SVG}rect").get("class")
    # Default flow: a slash near its start; a conditional flow out of a task: a diamond.
    assert len(_element(svg, "flow_default").findall(f"{SVG}path")) == 2
    assert _element(svg, "flow_cond").find(f"{SVG}polygon") is not None
    # Labels wrap inside the task and Chinese stays Chinese.
    task_lines = [t.text for t in _element(svg, "long_task").iter(f"{SVG}text")]
    assert len(task_lines) >= 2 and "".join(task_lines) == "一个名字很长很长很长很长的用户任务"


def test_a_file_without_diagram_interchange_is_refused_plainly() -> None:
    source = (PROJECT_ROOT / "tests" / "data" / "two_step.bpmn").read_text(encoding="utf-8")
    with pytest.raises(DiagramError, match="diagram interchange"):
        render_svg(source)


def test_entities_and_doctypes_are_refused() -> None:
    evil = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<d xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</d>')
    with pytest.raises(DiagramError):
        render_svg(evil)
    with pytest.raises(DiagramError, match="does not parse"):
        render_svg("<not xml")


def test_diff_names_added_removed_and_changed_elements() -> None:
    before = (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_text(encoding="utf-8")
    after = (before.replace('name="签收"', 'name="签收确认"', 1)
             .replace('<bpmn:sequenceFlow id="f_start" ', '<bpmn:sequenceFlow id="f_start_new" ', 1))
    changes = {c.element_id: c for c in diff_elements(element_fingerprints(before, "dispute_case"),
                                                        element_fingerprints(after, "dispute_case"))}
    assert changes["sign_for"].change == "changed" and "签收确认" in (changes["sign_for"].after or "")
    assert changes["f_start_new"].change == "added" and changes["f_start"].change == "removed"
    assert "registered" not in changes  # only its <outgoing> reference changed
    assert element_fingerprints(before, "nope") == {}


def test_a_change_is_told_property_by_property() -> None:
    before = (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_text(encoding="utf-8")
    after = (before.replace('name="签收"', 'name="签收确认"', 1)
             .replace('<spiffworkflow:property name="candidateGroups" value="handling_group" />'
                      '<spiffworkflow:property name="caseStatus" value="&quot;dispatched&quot;" />'
                      '<spiffworkflow:property name="timeLimit" value="&quot;P1D&quot;" />',
                      '<spiffworkflow:property name="candidateGroups" value="handling_group" />'
                      '<spiffworkflow:property name="caseStatus" value="&quot;dispatched&quot;" />'
                      '<spiffworkflow:property name="timeLimit" value="&quot;P3D&quot;" />'
                      '<spiffworkflow:property name="timeLimitCalendar" value="&quot;calendar&quot;" />', 1)
             .replace("not satisfied and reopen_count &lt; 1", "not satisfied and reopen_count &lt; 2", 1))
    changes = {c.element_id: c for c in diff_elements(element_fingerprints(before, "dispute_case"),
                                                        element_fingerprints(after, "dispute_case"))}
    assert changes["sign_for"].properties == (("name", "签收", "签收确认"), ("timeLimit", '"P1D"', '"P3D"'),
                                              ("timeLimitCalendar", None, '"calendar"'))
    assert changes["f_reopen"].properties == (("conditionExpression", "not satisfied and reopen_count < 1",
                                               "not satisfied and reopen_count < 2"),)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_diagrams_carry_no_inline_style_a_page_policy_would_refuse(path: Path) -> None:
    """Embedded in a page, a diagram is styled by the linked stylesheet alone: no <style> element and no
    style attribute (a strict Content-Security-Policy refuses both); on its own it carries the stylesheet."""
    from app.diagram import STYLESHEET

    source = path.read_text(encoding="utf-8")
    embedded = _svg(render_svg(source, stylesheet=False))
    assert embedded.find(f"{SVG}style") is None
    assert embedded.xpath("//*[@style]") == []
    standalone = _svg(render_svg(source, id_prefix="other"))
    assert standalone.find(f"{SVG}style").text == STYLESHEET
    assert standalone.xpath("//*[@style]") == []
    assert "svg.bpmn-diagram " in STYLESHEET and "bpmn-diagram" in standalone.get("class").split()
