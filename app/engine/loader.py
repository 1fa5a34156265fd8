"""Parse and validate BPMN/DMN bundles; store and restore specs once per deployed version."""
from __future__ import annotations

import json
import threading
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from app.engine import dmn_schema, failures
from app.engine.lint import NS, is_executable, lint_bpmn, lint_dmn
from app.engine.records import ParsedProcess
from app.engine.references import lint_references
from app.engine.serializer import REGISTRY
from app.engine.xml import parse_xml
from app.errors import Bilingual, ProblemLocation, ProcessInvalid

Spec = Any  # a SpiffWorkflow BpmnProcessSpec; kept opaque above this package


class ConcordParser(SpiffBpmnParser):
    """SpiffBpmnParser reading DMN 1.1, 1.2 and 1.3 whatever prefix the file gives the DMN namespace (the
    engine looked for a default namespace: a prefixed file gave IndexError), validated with working
    schemas (app.engine.dmn_schema)."""

    def add_dmn_xml(self, node: Any, filename: str | None = None) -> None:
        namespace = etree.QName(node).namespace or ""
        decisions = node.findall(f"{{{namespace}}}decision")
        if len(decisions) != 1:
            ids = ", ".join(d.get("id") or "?" for d in decisions)
            raise ValidationException(
                f"the file holds {len(decisions)} decisions ({ids or 'none'}); Concord reads one decision "
                "(with its decision table) per DMN file" if decisions else
                "the file holds no <decision>; Concord reads one decision with its decision table per DMN file",
                node=node, file_name=filename)
        validator = dmn_schema.validator(namespace)
        if validator is not None:
            validator.validate(node, filename)
        namespaces = {**self.namespaces, **{k: v for k, v in node.nsmap.items() if k}, "dmn": namespace}
        dmn_parser = DMNParser(self, node, namespaces, filename=filename)
        self.dmn_parsers[dmn_parser.bpmn_id] = dmn_parser
        self.dmn_parsers_by_name[dmn_parser.get_name()] = dmn_parser

    def add_documentation_xml(self, node: Any, filename: str | None = None) -> None:
        """A file without an executable process: checked against the schema (which also checks that every
        reference names an element of the file), never built."""
        if self.validator:
            self.validator.validate(node, filename)


def _validation_problem(exc: ValidationException, fallback_file: str | None) -> ProblemLocation:
    """The parser's complaint with its subject: the engine's texts name neither the element's kind nor its
    name, and some end mid-sentence ("... not supported for tasks of type")."""
    line = exc.line_number if isinstance(exc.line_number, int) else None
    text = str(exc.args[0] if exc.args else exc).strip()
    tag = getattr(exc, "tag", "") or ""
    name = getattr(exc, "name", "") or ""
    subject = " ".join(part for part in (f"<{tag}>" if tag else "", f"'{name}'" if name else "",
                                         f"({exc.id})" if getattr(exc, "id", "") else "") if part)
    if text.endswith(" of type") and tag:
        text = f"{text} <{tag}>"
    en = f"{subject}: {text}" if subject else text
    return ProblemLocation(exc.file_name or fallback_file, line, getattr(exc, "id", None) or None,
                           Bilingual(f"BPMN/DMN 校验未通过{f'（{subject}）' if subject else ''}：{text}", en))


def parse_bundle(files: dict[str, bytes], available_forms: set[str],
                 resolved: frozenset[str] = frozenset()) -> list[ParsedProcess]:
    """Parse, validate against the XSDs, lint, and build a storable spec of every executable process
    (except those of the `resolved` files: taken from a deployment to be called, not to be versioned).

    Raises ProcessInvalid listing every problem found (not only the first)."""
    problems: list[ProblemLocation] = []
    parser = ConcordParser(validator=VALIDATOR)
    bpmn_roots: dict[str, Any] = {}
    documentation: list[str] = []
    for name in sorted(files):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        root, problem = parse_xml(files[name], name)
        problem = problem or _wrong_kind(root, name)
        if problem or root is None:
            problems.extend([problem] if problem else [])
            continue
        try:
            if name.endswith(".dmn"):
                problems.extend(lint_dmn(root, name))
                parser.add_dmn_xml(root, filename=name)
            else:
                problems.extend(lint_bpmn(root, name, available_forms))
                problems.extend(lint_references(root, name))
                if any(is_executable(p) for p in root.iterfind("bpmn:process", NS)):
                    parser.add_bpmn_xml(root, filename=name)
                    bpmn_roots[name] = root
                else:
                    parser.add_documentation_xml(root, filename=name)
                    documentation.append(name)
        except ValidationException as exc:
            problems.append(_validation_problem(exc, name))
        except Exception as exc:  # the parser raises bare errors on some malformed input
            problems.append(ProblemLocation(name, None, None, f"{type(exc).__name__}: {exc}"))
    if not bpmn_roots and not documentation and not problems:
        problems.append(ProblemLocation(None, None, None, "the deployment contains no BPMN file"))
    if problems:
        raise ProcessInvalid(problems)
    parsed = [_build(parser, name, root, process) for name, root in bpmn_roots.items() if name not in resolved
              for process in root.iterfind("bpmn:process", NS) if is_executable(process)]
    failures = [p for p in parsed if isinstance(p, ProblemLocation)]
    if failures:
        raise ProcessInvalid(failures)
    return [p for p in parsed if isinstance(p, ParsedProcess)]


def _wrong_kind(root: Any, name: str) -> ProblemLocation | None:
    """A .bpmn file must hold BPMN 2.0 definitions and a .dmn file DMN definitions (the parsers
    would otherwise fail with an internal error that names no line)."""
    tag = etree.QName(root)
    kind = "DMN" if name.endswith(".dmn") else "BPMN"
    expected = "/spec/DMN/" in (tag.namespace or "") if kind == "DMN" else tag.namespace == NS["bpmn"]
    if tag.localname == "definitions" and expected:
        return None
    return ProblemLocation(name, root.sourceline, None,
                           f"not a {kind} file: the root element is <{tag.localname}> in namespace "
                           f"{tag.namespace or '(none)'}, expected {kind} <definitions>")


def _build(parser: SpiffBpmnParser, file: str, root: Any, process: Any) -> ParsedProcess | ProblemLocation:
    key = process.get("id")
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as exc:
        return _validation_problem(exc, file)
    except SpiffWorkflowException as exc:
        return ProblemLocation(file, None, key, str(exc))
    except Exception as exc:  # the parser raises bare errors on some input (a decision without a table)
        return ProblemLocation(file, process.sourceline, key, f"process {key!r} cannot be built: "
                                                             f"{type(exc).__name__}: {exc}")
    start_form = None
    start = process.find("bpmn:startEvent", NS)
    if start is not None:
        prop = start.find(".//spiffworkflow:property[@name='formJsonSchemaFilename']", NS)
        start_form = prop.get("value") if prop is not None else None
    forms = {p.get("value") for p in root.iterfind(".//spiffworkflow:property", NS)
             if p.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename")}
    elements = tuple(sorted(el.get("id") for el in process.iter() if el.get("id")))
    return ParsedProcess(key=key, name=process.get("name") or key, spec_json=spec_to_json(spec, subprocess_specs),
                         start_form=start_form, forms=tuple(sorted(forms)), elements=elements)


def spec_to_json(spec: Spec, subprocess_specs: dict[str, Spec]) -> str:
    return json.dumps({"spec": REGISTRY.convert(spec),
                       "subprocess_specs": {k: REGISTRY.convert(v) for k, v in subprocess_specs.items()}},
                      ensure_ascii=False, separators=(",", ":"))


def spec_from_json(text: str) -> tuple[Spec, dict[str, Spec]]:
    """A stored spec restored; an EngineFailure at the process definition when it does not load."""
    try:
        dct = json.loads(text)
        return REGISTRY.restore(dct["spec"]), {k: REGISTRY.restore(v) for k, v in dct["subprocess_specs"].items()}
    except Exception as exc:  # any error of the restoration: see app.engine.failures
        raise failures.definition_not_loaded(exc) from exc


class SpecCache:
    """Restored specs by definition id. Deployed versions never change, so entries never go stale."""

    def __init__(self) -> None:
        self._specs: dict[int, tuple[Spec, dict[str, Spec]]] = {}
        self._lock = threading.Lock()

    def get(self, definition_id: int, load_json: Any) -> tuple[Spec, dict[str, Spec]]:
        cached = self._specs.get(definition_id)
        if cached is None:
            cached = spec_from_json(load_json())
            with self._lock:
                self._specs[definition_id] = cached
        return cached
