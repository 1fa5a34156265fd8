"""What a bundle's executable processes refer to outside their own file (forms, decisions, called
processes, message schemas) and what each file provides, so that the designer can take what an upload
lacks from the latest deployment (app.services.designer.resolution)."""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from app.engine.lint import NS, is_executable
from app.engine.xml import parse_xml

FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


@dataclass
class Needs:
    forms: set[str] = field(default_factory=set)
    decisions: set[str] = field(default_factory=set)
    processes: set[str] = field(default_factory=set)
    optional: set[str] = field(default_factory=set)  # UI and message schemas: taken when found


@dataclass
class Provides:
    forms: set[str] = field(default_factory=set)
    decisions: dict[str, str] = field(default_factory=dict)  # decision id -> DMN file
    processes: dict[str, str] = field(default_factory=dict)  # process id -> BPMN file


def _roots(files: dict[str, bytes], suffix: str) -> list[tuple[str, etree._Element]]:
    found = []
    for name in sorted(files):
        if name.endswith(suffix):
            root, problem = parse_xml(files[name], name)
            if root is not None and problem is None:
                found.append((name, root))
    return found


def provided(files: dict[str, bytes]) -> Provides:
    provides = Provides(forms={name for name in files if name.endswith(".json")})
    for name, root in _roots(files, ".dmn"):
        namespace = etree.QName(root).namespace or ""
        for decision in root.iterfind(f"{{{namespace}}}decision"):
            if decision.get("id"):
                provides.decisions.setdefault(decision.get("id"), name)
    for name, root in _roots(files, ".bpmn"):
        for process in root.iterfind("bpmn:process", NS):
            if is_executable(process) and process.get("id"):
                provides.processes.setdefault(process.get("id"), name)
    return provides


def needed(files: dict[str, bytes]) -> Needs:
    needs = Needs()
    for _name, root in _roots(files, ".bpmn"):
        for process in root.iterfind("bpmn:process", NS):
            if not is_executable(process):
                continue
            for prop in process.iterfind(".//spiffworkflow:property", NS):
                if prop.get("name") in FORM_PROPERTIES and prop.get("value"):
                    needs.forms.add(prop.get("value", ""))
                    if prop.get("name") == "formJsonSchemaFilename":
                        ui = prop.get("value", "").replace(".schema.json", ".uischema.json")
                        needs.optional.add(ui)
            for node in process.iterfind(".//spiffworkflow:calledDecisionId", NS):
                if (node.text or "").strip():
                    needs.decisions.add((node.text or "").strip())
            for node in process.iterfind(".//bpmn:callActivity", NS):
                if node.get("calledElement"):
                    needs.processes.add(node.get("calledElement", ""))
            for node in process.iterfind(".//bpmn:messageEventDefinition", NS):
                message = root.find(f"bpmn:message[@id='{node.get('messageRef')}']", NS)
                if message is not None and message.get("name"):
                    needs.optional.add(f"message_{message.get('name')}.schema.json")
            for node in process.iterfind(".//bpmn:receiveTask", NS):
                message = root.find(f"bpmn:message[@id='{node.get('messageRef')}']", NS)
                if message is not None and message.get("name"):
                    needs.optional.add(f"message_{message.get('name')}.schema.json")
    return needs


def missing(files: dict[str, bytes]) -> Needs:
    """What the executable processes of `files` need that `files` do not hold."""
    needs, provides = needed(files), provided(files)
    return Needs(forms=needs.forms - provides.forms, decisions=needs.decisions - set(provides.decisions),
                 processes=needs.processes - set(provides.processes),
                 optional=needs.optional - provides.forms)
