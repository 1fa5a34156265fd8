"""Compaction of the engine's task tree (app/engine/compaction.py): joins, loops and data stay right, the
tree and the stored state stop growing, and a state stored with a deep history loads compacted."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.engine import compaction, loader, runner, serializer

ROOT = Path(__file__).resolve().parent.parent.parent
PARALLEL_LOOP = (ROOT / "tests" / "data" / "parallel_loop.bpmn").read_bytes()


def _spec(files: dict[str, bytes], forms: set[str], key: str) -> tuple[Any, Any]:
    parsed = {p.key: p for p in loader.parse_bundle(files, forms)}
    return loader.spec_from_json(parsed[key].spec_json)


class Case:
    """A workflow saved and loaded around every step, as the service layer does without its cache."""

    def __init__(self, spec: Any, subs: Any, data: dict[str, Any]) -> None:
        self.spec, self.subs = spec, subs
        self.workflow = runner.start(spec, subs, data)
        self.state = serializer.dump_state(self.workflow)

    def ready(self) -> list[str]:
        return sorted(t.bpmn_id for t in runner.ready_human_tasks(self.workflow))

    def do(self, name: str, data: dict[str, Any]) -> None:
        [task] = [t for t in runner.ready_human_tasks(self.workflow) if t.bpmn_id == name]
        runner.complete_task(self.workflow, task.id, data)
        self.state = serializer.dump_state(self.workflow)
        self.workflow = serializer.load_state(self.state, self.spec, self.subs)


def _parallel_case() -> Case:
    spec, subs = _spec({"parallel_loop.bpmn": PARALLEL_LOOP}, set(), "parallel_loop")
    return Case(spec, subs, {})


def test_a_parallel_join_in_a_loop_waits_for_both_branches_of_every_pass() -> None:
    # SpiffWorkflow alone counts the branch cancelled at the previous pass's join as arrived, and fires the
    # join at the second pass as soon as one branch is done; compaction drops what a pass consumed.
    case, sizes, counts = _parallel_case(), [], []
    for rounds in range(60):
        first, second = ("b", "a") if rounds % 2 else ("a", "b")
        case.do(first, {f"{first}{rounds}": True})
        assert case.ready() == [second], rounds
        case.do(second, {f"{second}{rounds}": True})
        assert case.ready() == ["decide"], rounds
        [decide] = runner.ready_human_tasks(case.workflow)
        assert {f"a{rounds}", f"b{rounds}"} <= set(decide.data)  # both branches' data merged
        case.do("decide", {"again": rounds < 59})
        sizes.append(len(case.state))
        counts.append(len(case.workflow.tasks))
    assert runner.is_completed(case.workflow)
    assert max(counts[2:-1]) == min(counts[2:-1])
    growth = [later - earlier for earlier, later in zip(sizes[2:-2], sizes[3:-1], strict=True)]
    assert max(growth) < 100  # only the data (two keys a pass) grows: none of the history


def test_without_compaction_the_parallel_join_fires_early(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test above can fail: the engine's own behaviour on the same diagram.
    monkeypatch.setattr(serializer, "compact", lambda workflow: None)
    case = _parallel_case()
    case.do("a", {"a": 0})
    case.do("b", {"b": 0})
    case.do("decide", {"again": True})
    case.do("b", {"b": 1})
    assert case.ready() == ["a", "decide"]


def _dispute_case() -> Case:
    files = {p.name: p.read_bytes() for p in (ROOT / "processes").iterdir()}
    forms = {p.name for p in (ROOT / "forms").iterdir()}
    spec, subs = _spec(files, forms, "dispute_case")
    return Case(spec, subs, {"category": "neighbor"})


def _loop(case: Case) -> None:
    case.do("dispatch", {"handling_group": "mediation", "complexity": "general"})
    case.do("sign_for", {"accepted": False, "return_reason": "退回"})


def test_a_state_stored_with_a_deep_history_loads_compacted_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:  # a state written before compaction existed
        patch.setattr(serializer, "compact", lambda workflow: None)
        case = _dispute_case()
        for _ in range(40):
            _loop(case)
        deep = len(case.workflow.tasks)
    loaded = serializer.load_state(case.state, case.spec, case.subs)
    assert len(loaded.tasks) < deep / 10
    case.workflow = loaded
    for _ in range(3):
        _loop(case)
    case.do("dispatch", {"handling_group": "mediation", "complexity": "general"})
    case.do("sign_for", {"accepted": True})
    assert case.ready() == ["handle"]
    completed, active = runner.element_states(case.workflow)
    # The diagram still marks what was done before compaction took it out of the tree.
    assert {"registered", "init_case", "route_case", "dispatch", "sign_for", "gw_accepted"} <= completed
    assert "handle" in active
    assert {"init_case", "route_case"} <= compaction.completed_elements(case.workflow)


def test_the_roadmap_subprocess_leaves_with_its_calling_task() -> None:
    case = _dispute_case()
    case.do("dispatch", {"handling_group": "mediation", "complexity": "general"})
    case.do("sign_for", {"accepted": True})
    case.do("handle", {"outcome": "mediation_failed"})
    assert len(case.workflow.subprocesses) == 1
    while "feedback" not in case.ready():
        [task] = runner.ready_human_tasks(case.workflow)
        case.do(task.bpmn_id, _roadmap_answer(task.bpmn_id))
    assert case.workflow.subprocesses == {}
    case.do("feedback", {"satisfied": True})
    assert runner.is_completed(case.workflow)


def _roadmap_answer(bpmn_id: str) -> dict[str, Any]:
    return {"choose_channel": {"channel": "litigation", "parties_informed": True},
            "track_channel": {"channel_result": "resolved"}}[bpmn_id]


def test_a_sequential_multi_instance_task_keeps_the_children_it_reads() -> None:
    # A running multi-instance task evaluates its completion condition on its last finished child.
    files = {"review_rounds.bpmn": (ROOT / "tests" / "data" / "review_rounds.bpmn").read_bytes()}
    spec, subs = _spec(files, set(), "review_rounds")
    case = Case(spec, subs, {})
    for settled in (False, False, True):
        assert case.ready() == ["review"]
        case.do("review", {"settled": settled})
    assert runner.is_completed(case.workflow)


def test_the_memoized_save_of_a_compacted_tree_matches_a_fresh_conversion_at_every_step() -> None:
    # Compaction re-parents tasks and rewrites children lists; the save's memo must notice.
    from tests.engine.test_engine import _plain_dump

    case = _parallel_case()
    workflow = case.workflow  # one object throughout, as the workflow cache keeps it
    for rounds in range(6):
        for name in ("b", "a") if rounds % 2 else ("a", "b"):
            [task] = [t for t in runner.ready_human_tasks(workflow) if t.bpmn_id == name]
            runner.complete_task(workflow, task.id, {f"{name}{rounds}": True})
            assert serializer.dump_state(workflow) == _plain_dump(workflow), (rounds, name)
        [task] = runner.ready_human_tasks(workflow)
        runner.complete_task(workflow, task.id, {"again": rounds < 5})
        assert serializer.dump_state(workflow) == _plain_dump(workflow), (rounds, "decide")
    assert runner.is_completed(workflow)
