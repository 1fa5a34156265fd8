"""Safe XML parsing for uploaded BPMN/DMN: no DTDs, no entities, no network."""
from __future__ import annotations

from lxml import etree

from app.errors import ProblemLocation

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=False)


def parse_xml(content: bytes, filename: str) -> tuple[etree._Element | None, ProblemLocation | None]:
    """Parse `content`; refuse any document type declaration (entities, external references)."""
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        return None, ProblemLocation(filename, exc.lineno, None, f"XML does not parse: {exc.msg}")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return None, ProblemLocation(filename, 1, None, "DOCTYPE declarations and entities are not allowed")
    return root, None
