"""The starting point of a new case type in the workbench: a route that deploys as it is (a start form with
the case fields, one handling task with a group and a time limit, an end), for the designer to grow."""
from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="definitions_{key}" \
targetNamespace="http://concord.example/bpmn">
  <bpmn:process id="{key}" name={name} isExecutable="true">
    <bpmn:startEvent id="registered" name="受理登记">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="{key}_register.schema.json" />
        <spiffworkflow:property name="formUiSchemaFilename" value="{key}_register.uischema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f_start</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="registered" targetRef="handle" />
    <bpmn:userTask id="handle" name="办理">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="{key}_handle.schema.json" />
        <spiffworkflow:property name="candidateGroups" value="&quot;{group}&quot;" />
        <spiffworkflow:property name="caseStatus" value="&quot;handling&quot;" />
        <spiffworkflow:property name="timeLimit" value="&quot;P5D&quot;" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_done" sourceRef="handle" targetRef="closed" />
    <bpmn:endEvent id="closed" name="办结"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram_{key}">
    <bpmndi:BPMNPlane id="plane_{key}" bpmnElement="{key}">
      <bpmndi:BPMNShape id="registered_di" bpmnElement="registered">
        <dc:Bounds x="152" y="102" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="146" y="145" width="48" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="handle_di" bpmnElement="handle">
        <dc:Bounds x="250" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="closed_di" bpmnElement="closed">
        <dc:Bounds x="412" y="102" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="418" y="145" width="24" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_start_di" bpmnElement="f_start">
        <di:waypoint x="188" y="120" /><di:waypoint x="250" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f_done_di" bpmnElement="f_done">
        <di:waypoint x="350" y="120" /><di:waypoint x="412" y="120" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

# The case fields every case type's start form declares (platform.md, "Case types").
_SOURCES = ["walk_in", "hotline_12345", "police_110", "petition", "grid", "online"]
_SOURCE_NAMES = ["窗口来访", "12345热线", "110非警务警情", "信访转办", "网格员上报", "网上受理"]


def _register_form() -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "title": "受理登记",
            "required": ["title", "source", "description"],
            "properties": {
                "title": {"type": "string", "title": "事项标题", "minLength": 2, "maxLength": 200},
                "source": {"type": "string", "title": "来源渠道", "enum": _SOURCES, "x-enumNames": _SOURCE_NAMES},
                "description": {"type": "string", "title": "事项描述", "minLength": 1, "maxLength": 5000}},
            "additionalProperties": False}


def _handle_form() -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "title": "办理",
            "required": ["result"],
            "properties": {"result": {"type": "string", "title": "办理结果", "minLength": 1, "maxLength": 5000}},
            "additionalProperties": False}


def new_case_type(key: str, name: str, group: str = "window") -> dict[str, str]:
    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    return {
        f"{key}.bpmn": _BPMN.format(key=key, name=quoteattr(name), group=escape(group)),
        f"{key}_register.schema.json": dump(_register_form()),
        f"{key}_register.uischema.json": dump({"ui:order": ["title", "source", "description"],
                                               "description": {"ui:widget": "textarea"}}),
        f"{key}_handle.schema.json": dump(_handle_form()),
    }
