"""The renderer draws the BPMN MIWG reference models as BPMN modelers do: data inputs and outputs as data
objects with their arrow, event subprocesses dotted, expanded call activities behind their content,
throwing envelopes that keep their flap, group labels from their category value, the "+" of collapsed
call activities, compensation and collection markers, arrowheads of a modeler's size and text
annotations with their line breaks."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from app.diagram import render_svg

MIWG = Path(__file__).parent / "data" / "miwg"
S = "{http://www.w3.org/2000/svg}"
NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(name: str) -> etree._Element:
    return etree.fromstring(render_svg((MIWG / f"{name}.bpmn").read_bytes()).encode("utf-8"))


def _element(svg: etree._Element, kind: str) -> list[etree._Element]:
    return svg.xpath(f"//s:g[contains(concat(' ', @class, ' '), ' el {kind} ')]", namespaces=NS)


@pytest.mark.parametrize("name", ["B.1.0", "B.2.0", "C.3.0", "C.6.0", "C.7.0", "C.8.0", "C.9.0"])
def test_every_reference_model_is_drawn(name: str) -> None:
    svg = _svg(name)
    assert svg.xpath("//s:g[@data-element-id]", namespaces=NS)


def test_data_inputs_and_outputs_are_data_objects_with_their_arrow() -> None:
    svg = _svg("C.6.0")
    [data_in] = _element(svg, "dataInput")
    [data_out] = _element(svg, "dataOutput")
    for shape in (data_in, data_out):
        assert shape.find(f"{S}rect") is None  # not a task box
        assert len(shape.findall(f"{S}path")) == 3  # the page, its fold, the arrow
    assert data_out.findall(f"{S}path")[2].get("class") == "ink"  # an output's arrow is black
    assert data_in.findall(f"{S}path")[2].get("class") == "line"


def test_event_subprocesses_are_dotted_and_compensation_is_marked() -> None:
    svg = _svg("C.6.0")
    frames = [g.find(f"{S}rect") for g in _element(svg, "subProcess")]
    assert sorted(frame.get("class") for frame in frames) == ["shape", "shape dotted"]
    compensating = [g for g in _element(svg, "serviceTask") if "Cancel" in (g.findtext(f"{S}title") or "")]
    assert len(compensating) == 2
    assert all(len(g.xpath(".//s:path[contains(@d, 'l-6,5 l6,5 z')]", namespaces=NS)) == 1 for g in compensating)


def test_throwing_envelopes_keep_their_flap() -> None:
    svg = _svg("C.6.0")
    send = _element(svg, "sendTask")[0]
    assert send.xpath(".//s:path[@class='flap']", namespaces=NS)
    message_end = _svg("C.9.0").xpath("//s:g[@data-element-id='EndMessageEvent_Timeout']", namespaces=NS)[0]
    assert message_end.xpath(".//s:rect[@class='ink']", namespaces=NS)  # a throwing envelope is filled
    assert message_end.xpath(".//s:path[@class='flap']", namespaces=NS)  # and keeps its flap


def test_collections_carry_three_bars() -> None:
    svg = _svg("C.7.0")
    bars = svg.xpath("//s:g[contains(@class, ' dataObjectReference')]//s:path[@stroke-width='2']", namespaces=NS)
    assert [bar.getparent().get("data-element-id") for bar in bars] == ["_c68abea8-c5b4-4aef-b1a5-1e81caec0cba"]
    assert bars[0].get("d").count("v9") == 3


def test_groups_are_labelled_by_their_category_value_and_call_activities_show_their_kind() -> None:
    svg = _svg("B.1.0")
    [group] = _element(svg, "group")
    assert "".join(group.itertext()).strip().endswith("Group")
    calls = _element(svg, "callActivity")
    collapsed = [g for g in calls if g.xpath(".//s:path[contains(@d, 'h8') and contains(@d, 'v8')]",
                                             namespaces=NS)]
    assert len(calls) == 3 and len(collapsed) == 2  # the expanded one shows its content instead
    expanded = [g for g in calls if g not in collapsed][0]
    assert expanded.getparent().get("class") == "layer-containers"  # drawn behind its content


def test_arrowheads_have_a_modelers_size() -> None:
    svg = _svg("C.3.0")
    arrow = svg.find(f".//{S}marker[@id='bpmn-arrow']")
    assert arrow.get("markerWidth") == "20" and arrow.get("viewBox") == "0 0 20 20"


def test_text_annotations_keep_their_line_breaks() -> None:
    source = (MIWG / "B.2.0.bpmn").read_text(encoding="utf-8").replace(
        ">Annotation<", ">First line&#10;second line<", 1)
    svg = etree.fromstring(render_svg(source).encode("utf-8"))
    [note] = _element(svg, "textAnnotation")
    assert [t.text for t in note.findall(f"{S}text")] == ["First line", "second line"]


def test_the_modelers_colours_are_kept() -> None:
    svg = _svg("C.3.0")
    start = svg.xpath("//s:g[@data-element-id='_cc9778bd-edd8-4df2-ba15-56c310f90e62']/s:circle", namespaces=NS)[0]
    assert (start.get("fill"), start.get("stroke")) == ("#6db700", "#000000")
    source = (MIWG / "C.3.0.bpmn").read_text(encoding="utf-8").replace(
        'color:background-color="#6db700"', 'color:background-color="red;}svg{display:none"', 1)
    hostile = etree.fromstring(render_svg(source).encode("utf-8"))
    start = hostile.xpath("//s:g[@data-element-id='_cc9778bd-edd8-4df2-ba15-56c310f90e62']/s:circle",
                          namespaces=NS)[0]
    assert start.get("fill") is None  # anything but a plain colour is ignored
