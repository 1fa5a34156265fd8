"""Migrating running cases to another version of their process, through the API and the command line."""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import cli
from app.database import db
from app.services.designer import deployments
from app.services.inbox import tasks
from app.services.intake import cases
from app.services.kernel import case_types, definitions, principals, timers
from tests.conftest import BUNDLE, OPERATOR, Api

CASES = 1000


def _user_task(element: str, name: str, incoming: str, outgoing: str, limit: str | None = None) -> str:
    limit_property = (f'<spiffworkflow:property name="timeLimit" value="&quot;{limit}&quot;" />' if limit else "")
    return (f'<bpmn:userTask id="{element}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'{limit_property}</spiffworkflow:properties></bpmn:extensionElements><bpmn:incoming>{incoming}'
            f'</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing></bpmn:userTask>')


def _flow(flow: str, source: str, target: str) -> str:
    return f'<bpmn:sequenceFlow id="{flow}" sourceRef="{source}" targetRef="{target}" />'


def _process(first: str, first_name: str, extra: bool) -> bytes:
    """dispute_case in the dispatch lane: `first` (3 working days, a 30-day timer on it), [check], review."""
    nodes = [_user_task(first, first_name, "f1", "f2", "P3D"),
             '<bpmn:boundaryEvent id="late" name="30 days" attachedToRef="' + first + '" cancelActivity="true">'
             '<bpmn:outgoing>f9</bpmn:outgoing><bpmn:timerEventDefinition id="late_def"><bpmn:timeDuration '
             'xsi:type="bpmn:tFormalExpression">"P30D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
             '</bpmn:boundaryEvent>',
             '<bpmn:endEvent id="end_late"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>',
             _user_task("review", "复核", "f3", "f4"),
             '<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>']
    flows = [_flow("f1", "start", first), _flow("f4", "review", "end"), _flow("f9", "late", "end_late")]
    if extra:
        nodes.append(_user_task("check", "核查", "f2", "f3"))
        flows += [_flow("f2", first, "check"), _flow("f3", "check", "review")]
    else:
        flows.append(_flow("f2", first, "review").replace('id="f2"', 'id="f2"').replace("f2", "f2"))
        flows[-1] = '<bpmn:sequenceFlow id="f2" sourceRef="' + first + '" targetRef="review" />'
        nodes[3] = _user_task("review", "复核", "f2", "f4")
    refs = ["start", first, "late", "end_late", "review", "end"] + (["check"] if extra else [])
    lane = "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_ops" targetNamespace="http://concord.example/test">
  <bpmn:process id="dispute_case" name="Operations fixture" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_dispatch" name="dispatch">{lane}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property
      name="formJsonSchemaFilename" value="register_case.schema.json" /></spiffworkflow:properties>
      </bpmn:extensionElements><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {"".join(nodes)}
    {"".join(flows)}
  </bpmn:process>
</bpmn:definitions>'''.encode()


def _deploy(first: str, first_name: str, extra: bool) -> int:
    deployed, _ = deployments.deploy(OPERATOR, {"ops.bpmn": _process(first, first_name, extra),
                                                "register_case.schema.json": BUNDLE["register_case.schema.json"]})
    return int(deployed[0]["version"])


def _register(count: int) -> list[int]:
    """`count` cases on the current version, registered by the intake service a hundred per transaction;
    every tenth one claimed by the dispatcher."""
    intake, dispatcher = principals.find_principal("intake1"), principals.find_principal("dispatch1")
    assert intake is not None and dispatcher is not None
    ids: list[int] = []
    to_claim: list[str] = []
    while len(ids) < count:
        with db.command() as conn:
            definition = definitions.latest_definition(conn, "dispute_case")
            schema = case_types.start_form(conn, definition).schema
            for number in range(len(ids), min(count, len(ids) + 100)):
                case = cases._create(conn, intake, {"title": f"迁移测试 {number}", "description": "批量登记",
                                                    "source": "walk_in", "parties": []}, definition, schema, None)
                ids.append(case["id"])
                if number % 10 == 0:
                    to_claim.append(case["active_tasks"][0]["id"])
    for task_id in to_claim:
        tasks.claim(dispatcher, task_id)
    return ids


def _open_tasks(app: Any) -> dict[str, tuple[Any, ...]]:
    engine = create_engine(app.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return {row.id: tuple(row) for row in conn.execute(text(
                "SELECT id, case_id, bpmn_id, assignee, due_at, created_at FROM tasks WHERE state = 'open'"))}
    finally:
        engine.dispose()


def _waiting_timers(app: Any) -> set[tuple[Any, ...]]:
    engine = create_engine(app.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return {tuple(r) for r in conn.execute(text(
                "SELECT task_id, kind, fire_at FROM timers WHERE state = 'waiting'"))}
    finally:
        engine.dispose()


def test_a_thousand_running_cases_move_to_a_version_that_renames_a_task_and_adds_another(
        api: Api, app: Any, frozen_clock: Any) -> None:
    source = _deploy("receive", "接收", extra=False)
    ids = _register(CASES)
    target = _deploy("accept", "受理", extra=True)
    before, timers_before = _open_tasks(app), _waiting_timers(app)
    assert len(before) == CASES and {row[2] for row in before.values()} == {"receive"}
    body = {"process_key": "dispute_case", "from_version": source, "to_version": target}

    some = [i["id"] for i in api.get("admin1", "/process-instances?per_page=10")["items"]]
    refused = api.post("admin1", "/process-instances/migrate", json={**body, "instance_ids": some, "dry_run": True})
    assert (refused["instances"], refused["migrable"], refused["migrated"]) == (10, 0, 0)
    assert {(p["element_id"], "no element 'receive'" in p["message"]) for p in refused["problems"]} == {
        ("receive", True)}
    dry = api.post("admin1", "/process-instances/migrate", json={**body, "mapping": {"receive": "accept"},
                                                                 "dry_run": True})
    assert (dry["instances"], dry["migrable"], dry["migrated"], dry["problems"]) == (CASES, CASES, 0, [])
    assert _open_tasks(app) == before  # a dry run changes nothing
    assert api.get("admin1", f"/process-instances?version={source}")["total"] == CASES

    started = time.perf_counter()
    report = api.post("supervisor1", "/process-instances/migrate", json={**body, "mapping": {"receive": "accept"}})
    elapsed = time.perf_counter() - started
    assert (report["instances"], report["migrable"], report["migrated"], report["problems"]) == (
        CASES, CASES, CASES, [])
    print(f"migrated {CASES} instances in {elapsed:.1f} s")
    after = _open_tasks(app)
    # Every case keeps its open task: same id, case, assignee, due instant and opening; the element follows.
    assert after.keys() == before.keys()
    assert all(after[i][:2] + after[i][3:] == before[i][:2] + before[i][3:] and after[i][2] == "accept"
               for i in before)
    assert _waiting_timers(app) == timers_before  # the rungs and the 30-day timer wait for the same instants
    assert api.get("admin1", f"/process-instances?version={target}")["total"] == CASES
    case = api.get("admin1", f"/cases/{ids[0]}")
    [entry] = [e for e in case["timeline"] if e["action"] == "case.migrated"]
    assert (entry["detail"]["from_version"], entry["detail"]["to_version"]) == (source, target)
    # The migrated case goes on along the new version: accept, then the added check, then review.
    [accept] = case["active_tasks"]
    assert (accept["name"], accept["title"], accept["assignee"]) == ("accept", "受理", "dispatch1")
    assert sum(1 for row in after.values() if row[3] == "dispatch1") == CASES // 10  # claims kept
    api.post("dispatch1", f"/tasks/{accept['id']}/complete", json={})
    assert [t["name"] for t in api.get("admin1", f"/cases/{ids[0]}")["active_tasks"]] == ["check"]
    again = api.post("admin1", "/process-instances/migrate", json={**body, "mapping": {"receive": "accept"}})
    assert again["instances"] == 0  # none is left on the old version


def test_refusals_and_the_command_line(api: Api, app: Any, monkeypatch: pytest.MonkeyPatch, database_url: str,
                                       capsys: pytest.CaptureFixture[str], frozen_clock: Any) -> None:
    source = _deploy("receive", "接收", extra=False)
    ids = _register(2)
    target = _deploy("accept", "受理", extra=True)
    body = {"process_key": "dispute_case", "from_version": source, "to_version": target}
    api.post("mediator1", "/process-instances/migrate", 403, json=body)
    api.post("admin1", "/process-instances/migrate", 404, json={**body, "to_version": 99})
    api.post("admin1", "/process-instances/migrate", 409, json={**body, "to_version": source})
    api.post("admin1", "/process-instances/migrate", 422, json={**body, "instance_ids": None})
    api.post("admin1", "/process-instances/migrate", 422, json={**body, "mapping": {"receive": ""}})
    unknown = api.post("admin1", "/process-instances/migrate", json={**body, "mapping": {"receive": "nowhere"}})
    assert unknown["migrated"] == 0 and unknown["problems"][0]["element_id"] == "nowhere"
    monkeypatch.setenv("CONCORD_DATABASE_URL", database_url)
    monkeypatch.setenv("CONCORD_SECRET_KEY", "test-secret")  # the command's app signs as the test's does
    argv = ["instances", "migrate", "--process", "dispute_case", "--from", str(source), "--to", str(target)]
    assert cli.main(argv + ["--dry-run"]) == 1  # problems: receive has no counterpart
    assert "[receive]" in capsys.readouterr().out
    case = api.get("admin1", f"/cases/{ids[0]}")
    assert cli.main(argv + ["--map", "receive=accept", "--ids", str(case["process_instance_id"])]) == 0
    assert "1 instances of dispute_case" in capsys.readouterr().out
    assert [t["name"] for t in api.get("admin1", f"/cases/{ids[0]}")["active_tasks"]] == ["accept"]
    assert [t["name"] for t in api.get("admin1", f"/cases/{ids[1]}")["active_tasks"]] == ["receive"]
    assert cli.main(["instances", "list", "--version", str(target)]) == 0
    assert "1 instances" in capsys.readouterr().out
    # The migrated case's 30-day timer kept its instant: a minute past it, it interrupts the task, as on v1.
    frozen_clock.advance(timedelta(days=30, minutes=1))
    timers.run_once()
    assert [api.get("admin1", f"/cases/{i}")["status"] for i in ids] == ["closed", "closed"]


def test_a_timer_incident_is_retried_after_the_case_moved_to_a_mended_version(api: Api, frozen_clock: Any,
                                                                             unwalked_deploys: None) -> None:
    from tests.test_engine_failures import FAILING_TIMER
    from tests.test_engine_failures import _deploy as deploy_failing

    deploy_failing(FAILING_TIMER)
    case = api.register()
    start = frozen_clock.now() + timedelta(days=31)
    for hours in range(12):  # the 30-day timer leads to a script that divides by zero: it gives up
        frozen_clock.set(start + timedelta(hours=hours))
        timers.run_once()
    [incident] = api.get("admin1", "/incidents")["items"]
    assert (incident["element"], incident["case_no"]) == ("chase", case["case_no"])
    broken = api.get("admin1", f"/cases/{case['id']}")["process_instance_id"]
    [item] = [i for i in api.get("admin1", "/process-instances?incident=true")["items"] if i["id"] == broken]
    deploy_failing(FAILING_TIMER.replace(b"chased = 1 / 0", b"chased = 1"))
    report = api.post("admin1", "/process-instances/migrate", json={
        "process_key": "dispute_case", "from_version": item["version"], "to_version": item["version"] + 1})
    assert (report["migrated"], report["problems"]) == (1, [])
    assert api.post("admin1", f"/incidents/{incident['id']}/retry")["retried"] is True
    assert timers.run_once().fired >= 1  # the timer fires again, on the mended version
    assert api.get("admin1", f"/cases/{case['id']}")["status"] == "closed"
    assert api.get("admin1", "/incidents")["items"] == []
    api.post("admin1", f"/incidents/{incident['id']}/retry", 409)
