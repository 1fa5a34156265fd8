"""What a bundle's executable processes refer to outside their own file (forms, decisions, called
processes, message schemas) and what each file provides, so that the designer can take what an upload
lacks from the latest deployment (app.services.designer.resolution)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from app.engine.lint import BPMN, NS, is_executable
from app.engine.xml import parse_xml
from app.errors import Bilingual, ProblemLocation

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


# Attributes and elements that name another element of the same file by id (IDREF or QName in BPMN 2.0).
_REF_ATTRIBUTES = ("sourceRef", "targetRef", "attachedToRef", "default", "processRef", "messageRef",
                   "bpmnElement", "signalRef", "errorRef", "escalationRef")
_REF_ELEMENTS = ("flowNodeRef", "incoming", "outgoing")


def lint_references(root: etree._Element, file: str) -> Iterator[ProblemLocation]:
    """Every reference names an element the file defines (the schema types most of them as QNames, which
    it cannot check): a model that draws a flow to nowhere is wrong, executable or not. A prefixed name in
    another namespace points into an imported file and is not checked."""
    ids = {node.get("id") for node in root.iter() if isinstance(node.tag, str) and node.get("id")}
    own = {prefix for prefix, uri in root.nsmap.items() if uri == root.get("targetNamespace")}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        refs = [(attr, node.get(attr)) for attr in _REF_ATTRIBUTES if node.get(attr)]
        if etree.QName(node).localname in _REF_ELEMENTS and etree.QName(node).namespace == BPMN:
            refs.append((etree.QName(node).localname, (node.text or "").strip()))
        for what, value in refs:
            prefix, _, local = value.rpartition(":")
            if prefix and prefix not in own:
                continue
            if local and local not in ids:
                kind = etree.QName(node).localname
                yield ProblemLocation(file, node.sourceline, _owner(node), Bilingual(
                    f"<{kind}> 的 {what} 引用了文件中不存在的元素 {local}",
                    f"<{kind}> {what} names {local!r}, which no element of the file has as its id"))


def _owner(node: etree._Element) -> str | None:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None
