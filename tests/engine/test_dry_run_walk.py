"""The dry run's walk (app.engine.dryrun) on its own: a loop is followed a bounded number of times, every
choice a form offers is tried, and an error names its element and the path that reached it."""
from __future__ import annotations

from typing import Any

from app.config import PROJECT_ROOT
from app.engine import dryrun, loader

BPMN = (PROJECT_ROOT / "tests" / "data" / "two_step.bpmn").read_bytes()


def _spec(bpmn: bytes) -> tuple[Any, dict[str, Any]]:
    [process] = loader.parse_bundle({"two_step.bpmn": bpmn}, {"ask.schema.json"})
    return loader.spec_from_json(process.spec_json)


def _samples(form: str | None, context: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("", {"amount": 1}), ("amount=20", {"amount": 20})] if form == "ask.schema.json" else [("", {})]


def _walk(bpmn: bytes) -> dryrun.Walk:
    spec, subprocess_specs = _spec(bpmn)
    start = [("", {"amount": 1, "reviewer_group": "reviewers"})]
    return dryrun.walk("two_step", spec, subprocess_specs, start, _samples, lambda name, ctx: {})


def test_every_element_of_the_loop_is_reached_and_each_choice_tried() -> None:
    walk = _walk(BPMN)
    assert walk.problems == [] and set(walk.elements) <= walk.reached
    assert walk.paths >= 2  # the base and amount=20 (which leaves the loop at once)


def test_an_endless_loop_is_followed_a_bounded_number_of_times() -> None:
    endless = BPMN.replace(b"amount &lt; 10", b"amount &gt; 0")
    walk = _walk(endless)
    assert walk.problems == []
    assert walk.steps <= 2 + 2 * dryrun.LOOP_VISITS * 3  # each loop element acted on LOOP_VISITS times a path
    assert "end" not in walk.reached  # nothing leaves this loop


def test_an_error_names_its_element_and_the_path_that_reached_it() -> None:
    broken = BPMN.replace(b"amount = amount * 2", b"amount = amount * 2 if amount &lt; 10 else missing_name")
    walk = _walk(broken)
    [problem] = walk.problems
    assert problem.element == "double" and "missing_name" in problem.en and "ask[amount=20]" in problem.en
