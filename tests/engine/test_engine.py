"""The engine adapter on a small fixture diagram: parse, lint, run, serialize without the spec."""
from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from app.engine import loader, runner, serializer
from app.engine.scripts import SCRIPT_ENGINE
from app.errors import PROCESS_STATE, EngineFailure, ProcessInvalid, TaskNotOpen, ValidationFailed

DATA = Path(__file__).resolve().parent.parent / "data"
BPMN = (DATA / "two_step.bpmn").read_bytes()


def _parse(bpmn: bytes = BPMN, forms: frozenset[str] = frozenset({"ask.schema.json"})) -> loader.ParsedProcess:
    return loader.parse_bundle({"two_step.bpmn": bpmn}, set(forms))[0]


def _problems(bpmn: bytes, forms: frozenset[str] = frozenset({"ask.schema.json"})) -> list:
    with pytest.raises(ProcessInvalid) as caught:
        _parse(bpmn, forms)
    return caught.value.problems


def _start(data: dict | None = None):
    spec, subs = loader.spec_from_json(_parse().spec_json)
    return runner.start(spec, subs, data or {"reviewer_group": "beta"}), spec, subs


def test_parsed_process_lists_its_forms_and_elements() -> None:
    parsed = _parse()
    assert parsed.key == "two_step" and parsed.forms == ("ask.schema.json",)
    assert {"ask", "review", "gw", "f5"} <= set(parsed.elements)


def test_ready_tasks_carry_lane_group_and_form() -> None:
    workflow, *_ = _start()
    [ask] = runner.ready_human_tasks(workflow)
    assert (ask.bpmn_id, ask.title, ask.group, ask.form_key) == ("ask", "Ask", "alpha", "ask.schema.json")


def test_candidate_groups_expression_binds_the_lane_at_run_time() -> None:
    workflow, *_ = _start({"reviewer_group": "gamma"})
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 20})
    [review] = runner.ready_human_tasks(workflow)
    assert review.bpmn_id == "review" and review.group == "gamma" and review.data["amount"] == 40


def test_gateway_loops_back_and_the_workflow_completes() -> None:
    workflow, *_ = _start()
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 1})
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {})
    assert runner.ready_human_tasks(workflow)[0].bpmn_id == "ask"  # 2 < 10: back to ask
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 7})
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {})
    assert runner.is_completed(workflow) and runner.latest_data(workflow)["amount"] == 14


def test_completing_a_task_twice_is_refused() -> None:
    workflow, *_ = _start()
    task_id = runner.ready_human_tasks(workflow)[0].id
    runner.complete_task(workflow, task_id, {"amount": 20})
    with pytest.raises(TaskNotOpen):
        runner.complete_task(workflow, task_id, {"amount": 20})


def test_private_keys_never_enter_task_data() -> None:
    workflow, *_ = _start()
    with pytest.raises(ValidationFailed):
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"__builtins__": {}})


def test_a_failing_script_is_an_engine_failure() -> None:
    workflow, *_ = _start()
    with pytest.raises(EngineFailure, match="double|amount"):
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": None})


def test_scripts_cannot_import_or_open_files() -> None:
    # refused at deploy now (tests/engine/test_sandbox.py covers the run-time refusal of such a script)
    bad = BPMN.replace(b"amount = amount * 2", b"amount = len(open('/etc/passwd').read())")
    [problem] = _problems(bad)
    assert problem.element_id == "double" and "'open' is not available" in problem.message


def test_state_round_trips_without_the_spec() -> None:
    workflow, spec, subs = _start()
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 20})
    state = serializer.dump_state(workflow)
    assert '"spec"' not in state and "Double" not in state
    restored = serializer.load_state(state, spec, subs)
    [review] = runner.ready_human_tasks(restored)
    runner.complete_task(restored, review.id, {})
    assert runner.is_completed(restored)


def test_bad_condition_fails_at_deploy_with_line_and_element() -> None:
    [problem] = _problems(BPMN.replace(b"amount &lt; 10", b"amount &lt;&lt;&lt; 10"))
    assert problem.element_id == "f5" and problem.line and problem.file == "two_step.bpmn"
    assert "condition" in problem.message


def test_bad_script_and_bad_timer_fail_at_deploy() -> None:
    timer = (b'<bpmn:boundaryEvent id="late" attachedToRef="review" cancelActivity="false">'
             b'<bpmn:timerEventDefinition id="late_def"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'
             b'"P7X"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>')
    end = b'<bpmn:endEvent id="end">'
    bad = BPMN.replace(b"amount * 2", b"amount *").replace(end, timer + end)
    messages = {p.element_id: p.message for p in _problems(bad)}
    assert "script" in messages["double"] and "ISO 8601" in messages["late_def"]


def test_missing_form_fails_at_deploy() -> None:
    [problem] = _problems(BPMN, forms=frozenset())
    assert problem.element_id == "ask" and "ask.schema.json" in problem.message


def test_xml_that_does_not_parse_names_the_line() -> None:
    [problem] = _problems(BPMN.replace(b"</bpmn:process>", b"</bpmn:proces>"))
    assert problem.line == BPMN.count(b"\n", 0, BPMN.index(b"</bpmn:process>")) + 1
    assert "does not parse" in problem.message


def test_schema_violation_names_line_and_element() -> None:
    [problem] = _problems(BPMN.replace(b'<bpmn:endEvent id="end">', b'<bpmn:endEvent id="end" bogus="1">'))
    assert problem.line and "bogus" in problem.message


def test_doctype_and_entities_are_rejected() -> None:
    evil = BPMN.replace(b'<?xml version="1.0" encoding="UTF-8"?>',
                        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    [problem] = _problems(evil)
    assert "DOCTYPE" in problem.message


def test_reused_finished_task_dicts_serialize_exactly_like_a_fresh_conversion() -> None:
    workflow, spec, subs = _start()
    for amount in (1, None, 20, None):
        ready = runner.ready_human_tasks(workflow)
        runner.complete_task(workflow, ready[0].id, {} if amount is None else {"amount": amount})
        assert serializer.dump_state(workflow) == _plain_dump(workflow)


def _plain_dump(workflow: object) -> str:
    """The same slim state, converted without any memo (the reference)."""
    import json

    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    plain = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(
        {**SPIFF_CONFIG, BpmnWorkflow: serializer._SlimWorkflowConverter}))
    return json.dumps(plain.to_dict(workflow), ensure_ascii=False, separators=(",", ":"))


def test_memoized_serialization_of_the_shipped_route_matches_a_fresh_one_at_every_step() -> None:
    from app.config import PROJECT_ROOT

    files = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "processes").iterdir()}
    forms = {p.name for p in (PROJECT_ROOT / "forms").iterdir()}
    parsed = {p.key: p for p in loader.parse_bundle(files, forms)}
    spec, subs = loader.spec_from_json(parsed["dispute_case"].spec_json)
    workflow = runner.start(spec, subs, {"category": None, "case_no": "ZZ-1", "source": "walk_in"})
    route_to_mediation = {"handling_group": "mediation", "complexity": "simple"}
    steps = [{"category": "contract"}, route_to_mediation, {"accepted": False, "return_reason": "不属于本室"},
             route_to_mediation,
             {"accepted": True}, {"outcome": "mediation_failed"}, {"channel": "litigation", "parties_informed": True},
             {"channel_result": "pending"}, {"channel_result": "resolved"}, {"satisfied": False},
             route_to_mediation, {"accepted": True}, {"outcome": "resolved"},
             {"satisfied": True}]
    for data in steps:
        [task] = runner.ready_human_tasks(workflow)
        runner.complete_task(workflow, task.id, data)
        assert serializer.dump_state(workflow) == _plain_dump(workflow), task.bpmn_id
    assert runner.is_completed(workflow)


def test_literal_properties_read_as_written_and_expressions_still_see_the_task_data() -> None:
    from app.engine.runner import _NOT_A_LITERAL, _literal

    assert _literal('"P1D"') == "P1D" and _literal("3") == 3
    assert _literal("handling_group") is _NOT_A_LITERAL
    assert _literal('["a"]') is _NOT_A_LITERAL  # a list would be shared between callers: evaluated instead
    assert _literal('"P15D" if handling_group == "labor" else "P1D"') is _NOT_A_LITERAL


# Failures: whatever the engine or the serializer raises comes out as an EngineFailure naming where.

def test_a_failing_script_names_its_element_and_the_error_type() -> None:
    workflow, *_ = _start()
    with pytest.raises(EngineFailure) as caught:
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": None})
    failure = caught.value
    assert (failure.element, failure.name) == ("double", "Double") and failure.error.startswith("TypeError")
    assert "double (Double)" in failure.detail.en and "double (Double)" in failure.detail.zh


def _raise_recursion(*_: object) -> None:
    raise RecursionError("maximum recursion depth exceeded")


def test_an_error_inside_the_engine_names_the_task_it_was_running() -> None:
    workflow, spec, _ = _start()
    spec.task_specs["double"]._run_hook = _raise_recursion  # the engine itself fails running the script task
    with pytest.raises(EngineFailure) as caught:
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 3})
    assert caught.value.element == "double" and caught.value.error == "RecursionError: maximum recursion depth exceeded"


def test_an_error_completing_the_task_itself_names_that_task() -> None:
    workflow, spec, _ = _start()
    spec.task_specs["ask"]._on_complete_hook = _raise_recursion
    with pytest.raises(EngineFailure) as caught:
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 3})
    assert (caught.value.element, caught.value.name) == ("ask", "Ask")


def test_a_recursion_error_while_a_script_runs_names_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    # Scripts cannot recurse themselves (the sandbox refuses `def` and `lambda`), but the engine's own
    # walks can reach Python's limit while a script task runs: the failure still names the script task.
    workflow, _spec, _subs = _start()

    def too_deep(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(SCRIPT_ENGINE.environment, "execute", too_deep)
    with pytest.raises(EngineFailure) as caught:
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 1})
    assert caught.value.element == "double" and caught.value.error.startswith("RecursionError")


def test_a_state_that_does_not_load_is_a_failure_of_the_process_state() -> None:
    workflow, spec, subs = _start()
    state = serializer.dump_state(workflow)
    for damaged in (state[:100], '{"tasks": {}}', "[]"):
        with pytest.raises(EngineFailure) as caught:
            serializer.load_state(damaged, spec, subs)
        assert caught.value.element == PROCESS_STATE
        assert caught.value.detail.en.startswith("the process state could not be loaded: ")
    with pytest.raises(EngineFailure, match="the process definition could not be loaded"):
        loader.spec_from_json('{"spec": {}}')


def test_a_state_that_cannot_be_written_is_a_failure_of_the_process_state() -> None:
    workflow, *_ = _start()
    task = workflow.get_task_from_id(UUID(runner.ready_human_tasks(workflow)[0].id))
    looped: dict = {}
    looped["self"] = looped  # the encoder meets it as a RecursionError, as it would a history too deep
    task.data["looped"] = looped
    with pytest.raises(EngineFailure) as caught:
        serializer.dump_state(workflow)
    assert caught.value.element == PROCESS_STATE and "could not be saved" in caught.value.detail.en
