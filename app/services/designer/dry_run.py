"""The dry run of a validated upload: each executable process it deploys walked in memory
(app.engine.dryrun) with submissions generated from its deployed forms (app.forms.samples), each one
checked by the form as production checks it. Problems are errors (the deployment is refused); elements
never reached and user tasks without a time limit are warnings."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from app import clock
from app.engine import dryrun
from app.engine.loader import spec_from_json
from app.engine.records import ParsedProcess
from app.errors import Bilingual, ProblemLocation
from app.forms import compile_validator, validate_submission
from app.forms.samples import samples, value
from app.services.kernel import case_types

_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
CASE_FIELDS = {"case_id": 0, "case_no": "DRY-RUN-0001"}  # what intake adds to a case's start data


def _sampler(forms: dict[str, dict[str, Any]], read: set[str] | None = None) -> Callable[..., list[Any]]:
    validators: dict[str, Any] = {}

    def generate(form: str | None, context: dict[str, Any], **how: Any) -> list[tuple[str, dict[str, Any]]]:
        schema = forms.get(form or "")
        if schema is None:
            return [("", {})]
        if form not in validators:
            validators[form or ""] = compile_validator(schema)
        validator = validators[form or ""]
        found = samples(schema, context, clock.today(), read=read, **how)
        required = set(schema.get("required") or [])
        valid = []
        for label, data in found:
            errors = validate_submission(schema, {k: v for k, v in data.items() if v is not None},  # (None: a
                                         validator, context, clock.today)  # field intake found empty)
            # an optional field the generator could not fill validly is left empty instead
            wrong = {e.field.split(".")[0].split("[")[0] for e in errors}
            if errors and not wrong & required:
                data = {k: v for k, v in data.items() if k not in wrong}
                errors = validate_submission(schema, {k: v for k, v in data.items() if v is not None},
                                             validator, context, clock.today)
            if not errors:
                valid.append((label, data))
        return valid or found[:1]  # a base the form refuses still walks on: its data are the best guess
    return generate


def _payloads(forms: dict[str, dict[str, Any]]) -> dryrun.Payload:
    def payload(name: str, context: dict[str, Any]) -> dict[str, Any]:
        if name.startswith("overdue_"):  # what the escalation ladder sends (app.services.kernel.timers)
            task = name.removeprefix("overdue_")
            return {"task": task, "task_id": "dry-run", "title": task, "group": None, "assignee": None,
                    "due_at": clock.now().isoformat()}
        schema = forms.get(f"message_{name}.schema.json")
        if schema is None:
            return {}
        return {field: value(spec, context, clock.today()) for field, spec in (schema.get("properties") or {}).items()}
    return payload


def read_names(sources: list[bytes]) -> set[str]:
    """Every word of the BPMN and DMN files: a superset of the variables their expressions read."""
    return {word.decode() for text in sources for word in _WORD.findall(text)}


def run(processes: list[ParsedProcess], forms: dict[str, dict[str, Any]], files: dict[str, str],
        read: set[str] | None = None) -> dict[str, Any]:
    """{"paths", "problems", "warnings", "coverage": {"elements", "reached"}, "processes", "seconds"}.
    Form fields vary only when in `read` (the words of the diagrams: read_names), when given."""
    began = time.perf_counter()
    sampler, payloads = _sampler(forms, read), _payloads(forms)
    walks = []
    for process in processes:
        if not process.start_form:
            continue  # only called by other processes: walked where they are called, with their data
        spec, subprocess_specs = spec_from_json(process.spec_json)
        start = sampler(process.start_form, {}, empty=None)  # intake passes an empty field as None
        start = [(label, {**{k: v for k, v in data.items() if k not in case_types.CASE_ROW_ONLY}, **CASE_FIELDS,
                          "urgency": data.get("urgency", "normal")}) for label, data in start]
        walks.append(dryrun.walk(process.key, spec, subprocess_specs, start, sampler, payloads))
    problems = [ProblemLocation(files.get(w.key), None, f.element, Bilingual(f.zh, f.en))
                for w in walks for f in w.problems]
    warnings = []
    for w in walks:
        bound = "（在试运行的上限内）" if w.truncated else ""
        bound_en = " (within the dry run's bounds)" if w.truncated else ""
        warnings += [ProblemLocation(files.get(w.key), None, element, Bilingual(
            f"试运行的 {w.paths} 条路径都没有到达此元素{bound}",
            f"no path of the dry run ({w.paths} paths) reaches this element{bound_en}"))
            for element in w.elements if element not in w.reached]
        warnings += [ProblemLocation(files.get(w.key), None, element, Bilingual(
            "用户任务没有办理时限（timeLimit），不会超期提醒或督办",
            "user task without a time limit (timeLimit): it is never overdue, reminded or supervised"))
            for element in w.untimed]
    return {"paths": sum(w.paths for w in walks), "problems": problems, "warnings": warnings,
            "coverage": {"elements": sorted({f"{w.key}:{e}" for w in walks for e in w.elements}),
                         "reached": sorted({f"{w.key}:{e}" for w in walks for e in w.elements if e in w.reached})},
            "processes": [{"key": w.key, "paths": w.paths, "steps": w.steps, "truncated": w.truncated,
                           "elements": len(w.elements), "reached": len(set(w.elements) & w.reached)}
                          for w in walks],
            "seconds": round(time.perf_counter() - began, 3)}


_RESULTS: dict[tuple[str, str], dict[str, Any]] = {}  # by (bundle hash, today): the walk is deterministic
_KEEP = 32


def run_cached(bundle_hash: str, processes: list[ParsedProcess], forms: dict[str, dict[str, Any]],
               files: dict[str, str], read: set[str] | None = None) -> dict[str, Any]:
    """run(), remembered for the same files on the same day (validate then deploy walks once)."""
    key = (bundle_hash, clock.today().isoformat())
    if key not in _RESULTS:
        if len(_RESULTS) >= _KEEP:
            _RESULTS.pop(next(iter(_RESULTS)))
        _RESULTS[key] = run(processes, forms, files, read)
    return _RESULTS[key]
