"""Compare the elements of two versions of a process: added, removed and changed, each change told
property by property (old → new) as a person reads it, with the XML kept for who asks for it."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from app.diagram.xml import BPMN, NS, local, parse

# Children that only repeat what the sequence flows already say; comparing them would mark both ends
# of every new flow as changed.
_REDUNDANT = ("incoming", "outgoing")


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str
    name: str
    change: str  # added, removed, changed
    before: str | None = None
    after: str | None = None
    properties: tuple[tuple[str, str | None, str | None], ...] = ()  # (property, old, new) of a change


def readable_properties(xml: str) -> dict[str, str]:
    """An element's own XML as named values: its attributes (but the id), each Concord property by its
    name (timeLimit, candidateGroups, ...), and the text of its parts by their path (script,
    conditionExpression, timerEventDefinition/timeDuration, postScript)."""
    if not xml:
        return {}
    element = etree.fromstring(xml)
    values = {name: value for name, value in element.attrib.items() if name != "id"}
    for node in element.iter():
        if node is element or not isinstance(node.tag, str):
            continue
        name = etree.QName(node).localname
        if name == "property" and node.get("name"):
            values[node.get("name", "")] = node.get("value", "")
            continue
        if name in ("properties", "extensionElements"):
            continue
        text = (node.text or "").strip()
        path = "/".join(etree.QName(n).localname for n in reversed(list(node.iterancestors()))
                        if n is not element and etree.QName(n).localname != "extensionElements")
        key = f"{path}/{name}" if path else name
        for attribute, value in node.attrib.items():
            if attribute != "id":
                values[f"{key}@{etree.QName(attribute).localname}"] = value
        if text:
            values[key] = text
    return values


def property_changes(before: str, after: str) -> tuple[tuple[str, str | None, str | None], ...]:
    old, new = readable_properties(before), readable_properties(after)
    return tuple((name, old.get(name), new.get(name)) for name in sorted(set(old) | set(new))
                 if old.get(name) != new.get(name))


def _own_xml(element: etree._Element) -> str:
    """The element without the children that are elements in their own right (they are compared apart)."""
    copy = etree.fromstring(etree.tostring(element))
    for child in list(copy):
        if not isinstance(child.tag, str):
            continue
        if child.get("id") or (etree.QName(child).namespace == BPMN and local(child) in _REDUNDANT):
            copy.remove(child)
    etree.cleanup_namespaces(copy)
    text = etree.tostring(copy, encoding="unicode")
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def element_fingerprints(source: str | bytes, process_id: str) -> dict[str, tuple[str, str, str]]:
    """id → (kind, name, own XML) for every element of process `process_id` (and its pool)."""
    root = parse(source)
    result: dict[str, tuple[str, str, str]] = {}
    process = next((p for p in root.iterfind("bpmn:process", NS) if p.get("id") == process_id), None)
    if process is None:
        return result
    scopes = [process] + [p for p in root.iter(f"{{{BPMN}}}participant") if p.get("processRef") == process_id]
    for scope in scopes:
        for element in scope.iter():
            if isinstance(element.tag, str) and element.get("id"):
                result[element.get("id", "")] = (local(element), element.get("name") or "", _own_xml(element))
    return result


def diff_elements(before: dict[str, tuple[str, str, str]],
                  after: dict[str, tuple[str, str, str]]) -> list[ElementChange]:
    changes: list[ElementChange] = []
    for element_id in sorted(set(before) | set(after)):
        old, new = before.get(element_id), after.get(element_id)
        if old is None and new is not None:
            changes.append(ElementChange(element_id, new[0], new[1], "added", after=new[2]))
        elif new is None and old is not None:
            changes.append(ElementChange(element_id, old[0], old[1], "removed", before=old[2]))
        elif old is not None and new is not None and old[2] != new[2]:
            changes.append(ElementChange(element_id, new[0], new[1] or old[1], "changed", before=old[2], after=new[2],
                                         properties=property_changes(old[2], new[2])))
    return changes
