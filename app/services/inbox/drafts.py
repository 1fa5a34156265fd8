"""Task drafts (暂存): an officer's half-filled form kept on the server until the task is completed.

A draft is work in progress, so it is not checked against the form (the form checks the completion);
it only has to be a JSON object of a reasonable size. Saving takes the same locks as completing the task,
so a save racing a completion either comes first (and the completion removes it) or finds the task done."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import Session

from app import clock
from app.database import db
from app.errors import Forbidden, NotFound, TaskHeldByOther, TaskNotOpen, ValidationFailed
from app.models import TaskDraft, table_of
from app.services.inbox import queries
from app.services.kernel import audit, policy
from app.services.kernel.present import iso
from app.services.kernel.principals import Principal
from app.states import TaskState

MAX_DRAFT_BYTES = 64 * 1024  # of its JSON text in UTF-8: a form's worth of typing, with room to spare
_D = table_of(TaskDraft)


def save(principal: Principal, task_id: str, data: Any) -> None:
    """Keep `data` as the open task's draft, replacing the one before; for those who may complete the task."""
    if not isinstance(data, dict):
        raise ValidationFailed.of_field("data", "暂存内容须为对象", "the draft must be a JSON object")
    if len(json.dumps(data, ensure_ascii=False).encode("utf-8")) > MAX_DRAFT_BYTES:
        raise ValidationFailed.of_field("data", f"暂存内容不能超过 {MAX_DRAFT_BYTES // 1024} KB",
                                        f"the draft must not exceed {MAX_DRAFT_BYTES // 1024} KB")
    with db.command() as conn:
        task = queries.lock_task_for_completion(conn, task_id)  # (ordered with a completion of the task)
        if task is None or not policy.can_see_task(principal, task):
            raise NotFound(f"task {task_id} does not exist")
        if task.state != TaskState.OPEN:
            raise TaskNotOpen(f"task {task_id} is {task.state}")
        if task.assignee not in (None, principal.username):
            raise TaskHeldByOther(f"task {task_id} is held by {task.assignee}")
        if not policy.can_complete(principal, task):
            raise Forbidden("only members of the task's group may save a draft of it")
        now = clock.now()
        values = {"data": data, "saved_by": principal.username, "saved_at": now}
        if conn.execute(update(_D).where(_D.c.task_id == task_id).values(**values)).rowcount == 0:
            conn.execute(insert(_D).values(task_id=task_id, **values))
        # The fields saved, not their values: the timeline says a draft exists, the draft itself says what.
        audit.record(conn, actor=principal.username, action="task.draft_saved", case_id=task.case_id,
                     instance_id=task.instance_id, task_id=task.id, at=now,
                     detail={"task": task.bpmn_id, "title": task.title, "fields": sorted(data)[:50]})


def of_task(session: Session | Connection, task_id: str) -> dict[str, Any] | None:
    """The task's draft: {"data", "saved_by", "saved_at"}, or None."""
    row = session.execute(select(_D).where(_D.c.task_id == task_id)).one_or_none()
    if row is None:
        return None
    return {"data": row.data, "saved_by": row.saved_by, "saved_at": iso(row.saved_at)}

