"""The shipped route: every element laid out (opens in bpmn.io / Camunda Modeler), ids of route.md kept,
and the DMN table checked like any other deployment."""
from __future__ import annotations

import pytest
from lxml import etree

from app.config import PROJECT_ROOT
from app.engine import loader
from app.errors import ProcessInvalid

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
ROUTE = PROJECT_ROOT / "processes" / "dispute_case.bpmn"
DMN = PROJECT_ROOT / "processes" / "routing.dmn"
FORMS = {p.name for p in (PROJECT_ROOT / "forms").glob("*.json")}


def test_every_flow_element_has_a_shape_or_an_edge() -> None:
    root = etree.parse(str(ROUTE)).getroot()
    drawn = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    process = root.find("bpmn:process", NS)
    elements = {el.get("id") for el in process if el.get("id") and not el.tag.endswith("laneSet")}
    lanes = {el.get("id") for el in root.iterfind(".//bpmn:lane", NS)}
    assert elements | lanes <= drawn
    for edge in root.iterfind(".//bpmndi:BPMNEdge", NS):
        assert len(edge.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2, edge.get("id")


def test_route_keeps_the_task_ids_of_route_md() -> None:
    root = etree.parse(str(ROUTE)).getroot()
    tasks = {el.get("id") for el in root.iterfind(".//bpmn:userTask", NS)}
    assert {"triage", "dispatch", "sign_for", "handle", "feedback"} <= tasks


def test_routing_table_maps_every_category_of_the_registration_form() -> None:
    import json

    categories = json.loads((PROJECT_ROOT / "forms" / "register_case.schema.json").read_text())[
        "properties"]["category"]["enum"]
    text = DMN.read_text(encoding="utf-8")
    assert all(f'"{code}"' in text for code in categories)


def test_bad_dmn_entry_is_refused_with_its_rule() -> None:
    bundle = {ROUTE.name: ROUTE.read_bytes(),
              DMN.name: DMN.read_bytes().replace(b'<inputEntry id="in_labor"><text>"labor"</text>',
                                                 b'<inputEntry id="in_labor"><text>"labor" ==== </text>')}
    with pytest.raises(ProcessInvalid) as caught:
        loader.parse_bundle(bundle, FORMS)
    [problem] = caught.value.problems
    assert problem.file == "routing.dmn" and problem.element_id == "in_labor" and problem.line
