"""Migrate running instances of a process from one deployed version to another (app.engine.migration).

The plan (which old element becomes which new one, with the operator's mapping) is computed once; each
instance is then migrated in a transaction of its own with its timeline entry, so that one instance's
problem leaves the others alone and nothing of a problem instance changes. Open tasks keep their id,
assignee, claim and due instant: only their element id, title and form follow the new version.
A dry run goes through the same steps and keeps nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update

from app import clock
from app.database import db
from app.engine import migration, runner
from app.errors import Bilingual, ConcordError, Conflict, FieldError, NotFound, ValidationFailed
from app.models import ProcessInstance, TaskRow, table_of
from app.services.kernel import audit, definitions, instances, policy, projection
from app.services.kernel.principals import Principal
from app.services.operations import listing
from app.services.operations.common import case_of_instance, positive_integer
from app.states import InstanceStatus, TaskState

_T = table_of(TaskRow)
_OPEN_TASKS = select(_T.c.id, _T.c.bpmn_id, _T.c.title, _T.c.form_key).where(
    _T.c.instance_id == bindparam("b_instance"), _T.c.state == TaskState.OPEN)
_RENAME_TASK = update(_T).where(_T.c.id == bindparam("b_id")).values(
    bpmn_id=bindparam("b_bpmn_id"), title=bindparam("b_title"), form_key=bindparam("b_form"))
MAX_INSTANCES = 100_000
# Instances per transaction (each in a savepoint of its own): commits cost more than the work on PostgreSQL.
BATCH = 25


def _request(body: dict[str, Any]) -> tuple[str, int, int, list[int] | None, dict[str, str], bool]:
    errors: list[FieldError] = []
    key = body.get("process_key")
    if not isinstance(key, str) or not key:
        errors.append(FieldError("process_key", Bilingual("必填", "required")))
    versions: list[Any] = []
    for name in ("from_version", "to_version"):
        versions.append(positive_integer(body.get(name)))
        if versions[-1] is None:
            errors.append(FieldError(name, Bilingual("必须是正整数", "must be a positive integer")))
    ids = body.get("instance_ids")
    if "instance_ids" in body:
        ids = [positive_integer(i) for i in ids] if isinstance(ids, list) else [None]
        if None in ids:
            errors.append(FieldError("instance_ids", Bilingual("必须是正整数列表",
                                                               "must be a list of positive integers")))
    mapping = body.get("mapping", {})
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                for k, v in mapping.items()):
        errors.append(FieldError("mapping", Bilingual("必须是 旧环节→新环节 的对象",
                                                      "must map old element ids to new ones")))
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        errors.append(FieldError("dry_run", Bilingual("必须是 true 或 false", "must be true or false")))
    if errors:
        raise ValidationFailed("the migration request is invalid", errors)
    if versions[0] == versions[1]:  # (well-formed, so not a 422: there is just nothing to do)
        raise Conflict(Bilingual("目标版本与源版本相同", "the instances run on that version already"))
    return str(key), int(versions[0]), int(versions[1]), ids, dict(mapping), bool(dry_run)


def migrate(principal: Principal, body: dict[str, Any], *, actor: str | None = None) -> dict[str, Any]:
    key, source, target, ids, mapping, dry_run = _request(body)
    policy.require_operator(principal)
    with db.transaction() as session:
        source_id, target_id = definitions.version_id(session, key, source), definitions.version_id(session, key,
                                                                                                  target)
        if source_id is None or target_id is None:
            missing = source if source_id is None else target
            raise NotFound(f"process {key!r} has no version {missing}")
        query = listing.filtered(principal, process_key=key, version=source, instance_ids=ids)
        candidates = list(session.execute(query.with_only_columns(ProcessInstance.id, ProcessInstance.status)
                                          .limit(MAX_INSTANCES)))
        old_spec, old_subs = definitions.spec_of(session, source_id)
        new_spec, new_subs = definitions.spec_of(session, target_id)
        target_info = definitions.definition_info(session, target_id)
    the_plan = migration.plan(old_spec, old_subs, new_spec, new_subs, mapping)
    report: dict[str, Any] = {"instances": len(candidates), "migrable": 0, "migrated": 0, "dry_run": dry_run,
                              "problems": []}
    running = []
    for instance_id, status in sorted(candidates):
        if status == InstanceStatus.RUNNING:
            running.append(instance_id)
        elif status == InstanceStatus.SUSPENDED:
            report["problems"].append({"instance_id": instance_id, "element_id": None,
                                       "message": "suspended: resume it first"})
        else:
            report["instances"] -= 1  # finished or cancelled: nothing runs there to migrate
    step = Step(the_plan, target_info, source, mapping, dry_run, actor or principal.username)
    for start in range(0, len(running), BATCH):
        with db.command() as conn:
            for instance_id in running[start:start + BATCH]:
                problems = step.run(conn, instance_id)
                if problems:
                    report["problems"] += [{"instance_id": instance_id, "element_id": p.element_id,
                                            "message": p.message} for p in problems]
                    continue
                report["migrable"] += 1
                report["migrated"] += 0 if dry_run else 1
    return report


class _Refused(Exception):
    """Rolls one instance's savepoint back (its problems, or a dry run's whole work)."""

    def __init__(self, problems: list[migration.Problem]) -> None:
        super().__init__("refused")
        self.problems = problems


@dataclass
class Step:
    """The migration of one instance, in a savepoint of its batch's transaction: an instance with problems
    (or any instance of a dry run) is rolled back alone, and nothing of it changes."""

    plan: migration.Plan
    target: Any
    source: int
    mapping: dict[str, str]
    dry_run: bool
    actor: str

    def run(self, conn: Any, instance_id: int) -> list[migration.Problem]:
        try:
            with db.savepoint(conn):
                problems = self._migrate(conn, instance_id)
                if problems or self.dry_run:
                    raise _Refused(problems)
        except _Refused as refused:
            return refused.problems
        except ConcordError as exc:  # a state that does not load, ...: that instance's problem
            return [migration.Problem(getattr(exc, "element", None), str(exc.detail))]
        return []

    def _migrate(self, conn: Any, instance_id: int) -> list[migration.Problem]:
        live = instances.lock_fresh(conn, instance_id)
        if live.definition.version != self.source or live.definition.key != self.target.key:
            return [migration.Problem(None, f"runs on version {live.definition.version} now")]
        problems = migration.migrate(self.plan, live.workflow)
        if problems or self.dry_run:
            return problems  # the workflow was loaded for this alone: thrown away, nothing written
        now = clock.now()
        instances.rebase(conn, live, self.target, now)
        renamed = _follow_renamed_tasks(conn, live)
        case_id = case_of_instance(conn, instance_id)
        entry = audit.entry(actor=self.actor, action="case.migrated", case_id=case_id, instance_id=instance_id,
                            at=now, detail={"process": self.target.key, "from_version": self.source,
                                            "to_version": self.target.version, "mapping": self.mapping,
                                            "renamed_tasks": renamed})
        projection.sync(conn, live, case_id, actor=self.actor, entries=[entry], now=now)
        return []


def _follow_renamed_tasks(conn: Any, live: instances.LiveInstance) -> list[dict[str, str]]:
    """Open tasks keep their rows (id, assignee, claim, due instant); element id, title and form follow the
    new version."""
    rows = {row.id: row for row in conn.execute(_OPEN_TASKS, {"b_instance": live.id})}
    renamed = []
    for task in runner.describe(live.workflow, sorted(rows)):
        row = rows[task.id]
        if (task.bpmn_id, task.title, task.form_key) != (row.bpmn_id, row.title, row.form_key):
            conn.execute(_RENAME_TASK, {"b_id": task.id, "b_bpmn_id": task.bpmn_id, "b_title": task.title,
                                        "b_form": task.form_key})
            renamed.append({"id": task.id, "from": row.bpmn_id, "to": task.bpmn_id})
    return renamed
