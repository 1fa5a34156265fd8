"""The XML Schemas DMN files are validated with: 1.1 (20151101), 1.2 (20180521) and 1.3 (20191111).

SpiffWorkflow 3.2.0 ships DMN 1.2 with a broken import: its DMNDI12.xsd is the DI schema (namespace .../DI/),
so DMN12.xsd's reference to dmndi:DMNDI does not resolve and *every* DMN 1.2 file failed with an internal
XML Schema error. The DMN 1.2 DMNDI schema is the 1.3 one under the 1.2 namespace (the 1.3 revision changed
no DMNDI type); it is built from the shipped DMNDI13.xsd here, in memory, and served to the 1.2 schema."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS, XSD_DIR

DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"
DMN12 = "http://www.omg.org/spec/DMN/20180521/MODEL/"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
VERSIONS = {DMN11: "1.1", DMN12: "1.2", DMN13: "1.3"}
_DMNDI12_PATH = os.path.join(XSD_DIR, "concord-DMNDI12-model.xsd")  # served by _Resolver, never on disk


class _Resolver(etree.Resolver):
    def resolve(self, url: str, pubid: Any, context: Any) -> Any:
        if url.endswith("concord-DMNDI12-model.xsd"):
            with open(os.path.join(XSD_DIR, "DMNDI13.xsd"), encoding="utf-8") as source:
                text = source.read().replace("https://www.omg.org/spec/DMN/20191111/DMNDI/",
                                             "http://www.omg.org/spec/DMN/20180521/DMNDI/")
            return self.resolve_string(text, context, base_url=_DMNDI12_PATH)
        return None


class _Validator(BpmnValidator):
    """BpmnValidator's validate (file and line of the first error) over a schema built here."""

    def __init__(self, schema: etree.XMLSchema) -> None:
        self.validator = schema


@lru_cache(maxsize=None)
def validator(namespace: str) -> BpmnValidator | None:
    """The validator of the DMN version whose namespace is `namespace`; None for an unknown version."""
    if namespace == DMN12:
        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(_Resolver())
        tree = etree.parse(SCHEMAS[DMN12], parser)
        for node in tree.getroot().iterfind("{http://www.w3.org/2001/XMLSchema}import"):
            if node.get("namespace") == "http://www.omg.org/spec/DMN/20180521/DMNDI/":
                node.set("schemaLocation", _DMNDI12_PATH)
        return _Validator(etree.XMLSchema(tree))
    path = SCHEMAS.get(namespace)
    return BpmnValidator(path) if path else None
