"""Process diagrams for people: a case's route with what is done and what waits, a deployed version,
the problems of an upload marked on its diagram, and what changed between two versions.

Each takes `stylesheet`: True (the default) draws a self-contained SVG; pages pass False and link
`stylesheet()` once instead (their Content-Security-Policy refuses a <style> element in the page)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import db
from app.diagram import STYLESHEET, DiagramError, diff_elements, element_fingerprints, process_ids, render_svg
from app.engine import runner
from app.errors import EngineFailure, NotFound, ProblemLocation
from app.models import Case, Deployment, ProcessDefinition
from app.services.kernel import directory, incidents, instances, policy
from app.services.kernel.principals import Principal


def _bpmn_source(session: Session, deployment_id: int, key: str) -> tuple[str, str]:
    """(file name, text) of the BPMN file of `deployment_id` that defines process `key`."""
    sources: dict[str, str] = session.scalar(select(Deployment.sources).where(Deployment.id == deployment_id)) or {}
    for name in sorted(sources):
        if name.endswith(".bpmn"):
            try:
                if key in process_ids(sources[name]):
                    return name, sources[name]
            except DiagramError:
                continue
    raise NotFound(f"the deployment of process {key!r} holds no BPMN file for it")


def _render(source: str, key: str, **kwargs: Any) -> str:
    # Lanes named after a group (dispute_case's `dispatch`, `department`) are shown by the group's name.
    groups = directory.current().groups
    lane_names = {group: info.name for group, info in groups.items()}
    try:
        return render_svg(source, process_id=key, lane_names=lane_names, **kwargs)
    except DiagramError as exc:
        raise NotFound(f"process {key!r} cannot be drawn: {exc}") from exc


def stylesheet() -> str:
    """The CSS that draws every diagram, for pages that show diagrams drawn without it."""
    return STYLESHEET


def case_diagram(principal: Principal, case_id: int, *, id_prefix: str = "bpmn", stylesheet: bool = True) -> str:
    """The case's process diagram with completed and active elements marked; 404 for invisible cases."""
    case: Any = None
    try:
        with db.transaction() as session:
            case = session.scalar(select(Case).where(Case.id == case_id, policy.visible_cases(principal)))
            if case is None or case.process_instance_id is None:
                raise NotFound(f"case {case_id} does not exist")
            title = case.case_no
            workflow, info = instances.read(session, case.process_instance_id)
            completed, active = runner.element_states(workflow)
            taken = runner.taken_transitions(workflow)
            _, source = _bpmn_source(session, info.deployment_id, info.key)
    except EngineFailure as failure:  # the case's stored state does not load: an incident, as for a step
        incidents.record_step_failure(failure, f"drawing case {case_id}", operation=incidents.DIAGRAM,
                                      case_id=case.id, instance_id=case.process_instance_id)
        raise
    marks = {element: "done" for element in completed}
    marks.update({element: "active" for element in active})
    return _render(source, info.key, marks=marks, id_prefix=id_prefix, title=f"{title} {info.key} v{info.version}",
                   stylesheet=stylesheet, taken=taken)


def _definition(session: Session, key: str, version: int) -> ProcessDefinition:
    row = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                         ProcessDefinition.version == version))
    if row is None:
        raise NotFound(f"process {key!r} version {version} does not exist")
    return row


def definition_diagram(principal: Principal, key: str, version: int, *, id_prefix: str = "bpmn",
                       stylesheet: bool = True) -> str:
    principal.require_role("designer", "supervisor")
    with db.transaction() as session:
        row = _definition(session, key, version)
        _, source = _bpmn_source(session, row.deployment_id, key)
    return _render(source, key, id_prefix=id_prefix, title=f"{key} v{version}", stylesheet=stylesheet)


def definition_files(principal: Principal, key: str, version: int) -> dict[str, Any]:
    """The files deployed with a version (a designer downloads them to start the next one)."""
    principal.require_role("designer", "supervisor")
    with db.transaction() as session:
        row = _definition(session, key, version)
        bpmn_file, _ = _bpmn_source(session, row.deployment_id, key)
        sources = session.scalar(select(Deployment.sources).where(Deployment.id == row.deployment_id)) or {}
        return {"key": key, "version": version, "name": row.name, "bpmn_file": bpmn_file,
                "files": sorted(sources), "elements": list(row.elements or [])}


def compare_versions(principal: Principal, key: str, before: int, after: int, *,
                     stylesheet: bool = True) -> dict[str, Any]:
    """Elements added, removed and changed from version `before` to `after`, both diagrams marked."""
    principal.require_role("designer", "supervisor")
    with db.transaction() as session:
        old, new = _definition(session, key, before), _definition(session, key, after)
        _, old_source = _bpmn_source(session, old.deployment_id, key)
        _, new_source = _bpmn_source(session, new.deployment_id, key)
        old_elements, new_elements = set(old.elements or []), set(new.elements or [])
    changes = diff_elements(element_fingerprints(old_source, key), element_fingerprints(new_source, key))
    # The stored element lists are the deploy-time truth; the XML comparison adds what changed inside.
    listed = {c.element_id for c in changes}
    changes += [c for c in diff_elements({e: ("", "", "") for e in old_elements - new_elements - listed},
                                         {e: ("", "", "") for e in new_elements - old_elements - listed})]
    left = {c.element_id: {"removed": "removed", "changed": "changed"}[c.change] for c in changes
            if c.change != "added"}
    right = {c.element_id: {"added": "added", "changed": "changed"}[c.change] for c in changes
             if c.change != "removed"}
    return {"key": key, "before": before, "after": after,
            "changes": [{"element_id": c.element_id, "kind": c.kind, "name": c.name, "change": c.change,
                         "before": c.before, "after": c.after,
                         "properties": [{"property": name, "before": old, "after": new}
                                        for name, old, new in c.properties]} for c in changes],
            "before_svg": _render(old_source, key, marks=left, id_prefix="before", stylesheet=stylesheet),
            "after_svg": _render(new_source, key, marks=right, id_prefix="after", stylesheet=stylesheet)}


def upload_previews(files: dict[str, bytes], problems: list[ProblemLocation], *,
                    stylesheet: bool = True) -> list[dict[str, Any]]:
    """Each uploaded BPMN file drawn with the elements that have problems marked; files that cannot
    be drawn say why instead."""
    previews = []
    for index, name in enumerate(sorted(n for n in files if n.endswith(".bpmn"))):
        marks = {p.element_id: "error" for p in problems if p.file == name and p.element_id}
        try:
            svg: str | None = render_svg(files[name], marks=marks, id_prefix=f"upload{index}", stylesheet=stylesheet)
            reason = None
        except DiagramError as exc:
            svg, reason = None, str(exc)
        previews.append({"file": name, "svg": svg, "reason": reason, "marked": sorted(marks)})
    return previews
