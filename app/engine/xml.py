"""Safe XML parsing for uploaded BPMN/DMN: no DTDs, no entities, no network; and reading a file in the
encoding its XML declaration names (files without one are UTF-8, as XML itself says)."""
from __future__ import annotations

import codecs
import re

from lxml import etree

from app.errors import Bilingual, ProblemLocation

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=False)
# The encoding pseudo-attribute of an XML declaration (which is ASCII in every encoding a designer uses).
_DECLARATION = re.compile(rb"""^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*["'])([A-Za-z][A-Za-z0-9._-]*)(["'])""")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def declared_encoding(content: bytes) -> str | None:
    """The encoding the file's byte order mark or XML declaration names; None when neither does."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return name
    match = _DECLARATION.match(content)
    return match.group(2).decode("ascii") if match else None


def as_utf8(content: bytes, filename: str) -> tuple[bytes | None, ProblemLocation | None]:
    """The file re-encoded as UTF-8 (its declaration saying so), read in the encoding its declaration
    names, so that a GBK file declaring encoding="GBK" is stored and parsed like any other."""
    declared = declared_encoding(content)
    encoding = declared or "utf-8"
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        return None, ProblemLocation(filename, 1, None, Bilingual(
            f"XML 声明的编码 {encoding} 无法识别",
            f"the XML declaration names encoding {encoding!r}, which is unknown"))
    try:
        text = content.decode(codec.name if declared else "utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        if declared:
            return None, ProblemLocation(filename, line, None, Bilingual(
                f"文件声明编码为 {encoding}，但第 {line} 行不是 {encoding} 编码",
                f"the file declares encoding {encoding!r} but line {line} is not {encoding}"))
        return None, ProblemLocation(filename, line, None, Bilingual(
            f"文件没有声明编码，按 UTF-8 读取，但第 {line} 行不是 UTF-8：请存为 UTF-8 或在 XML 声明中写明编码",
            f"the file declares no encoding, so it is read as UTF-8, and line {line} is not UTF-8: "
            "save it as UTF-8 or name its encoding in the XML declaration"))
    text = text.lstrip("\ufeff")
    data = text.encode("utf-8")
    if declared and _DECLARATION.match(data):
        data = _DECLARATION.sub(rb"\1UTF-8\3", data, count=1)
    return data, None


def parse_xml(content: bytes, filename: str) -> tuple[etree._Element | None, ProblemLocation | None]:
    """Parse `content`; refuse any document type declaration (entities, external references)."""
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        return None, ProblemLocation(filename, exc.lineno, None, Bilingual(
            f"XML 格式错误：{exc.msg}", f"XML does not parse: {exc.msg}"))
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return None, ProblemLocation(filename, 1, None, Bilingual(
            "不允许 DOCTYPE 声明和实体", "DOCTYPE declarations and entities are not allowed"))
    return root, None
