"""Cases and tasks written straight into the tables, with every instant chosen by the test, so that
each metric can be checked by hand (the route would stamp everything with the frozen clock)."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from app.database import db
from app.models import Case, ProcessDefinition, ProcessInstance, TaskRow, table_of

SH = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """An instant in the centre's time zone."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def task(bpmn_id: str, *, created: datetime, due: datetime | None = None, done: datetime | None = None,
         state: str | None = None, group: str | None = None) -> dict[str, Any]:
    return {"bpmn_id": bpmn_id, "created_at": created, "due_at": due, "completed_at": done,
            "state": state or ("completed" if done else "open"), "group_name": group}


def add_case(*, created: datetime, category: str | None = None, group: str | None = None, source: str = "walk_in",
             grid: str | None = None, closed: datetime | None = None, outcome: str | None = None,
             satisfied: bool | None = None, procedure: str | None = None, procedure_since: datetime | None = None,
             tasks: tuple[dict[str, Any], ...] = ()) -> int:
    number = next(_numbers)
    assert db.engine is not None
    with db.engine.begin() as conn:
        case_id = conn.execute(insert(table_of(Case)).returning(table_of(Case).c.id), {
            "case_no": f"T-{number:06d}-{uuid.uuid4().hex[:6]}", "title": f"案件 {number}", "description": "报表测试",
            "request": None, "source": source, "external_id": None, "category": category, "urgency": "normal",
            "risk_level": None, "amount": None, "grid": grid, "address": None, "willing_to_mediate": None,
            "status": "closed" if closed else "handling", "procedure": procedure, "procedure_since": procedure_since,
            "handling_group": group, "complexity": None, "outcome": outcome, "satisfied": satisfied,
            "reopen_count": 0, "process_instance_id": None, "created_by": "test", "created_at": created,
            "updated_at": closed or created, "closed_at": closed}).scalar_one()
        if tasks:
            # Tasks belong to an instance; its state is irrelevant to the reports.
            definition = conn.execute(select(func.min(ProcessDefinition.id))).scalar_one()
            instance = conn.execute(insert(table_of(ProcessInstance)).returning(table_of(ProcessInstance).c.id), {
                "definition_id": definition, "state": "{}", "serializer_version": "-", "version": 1,
                "status": "running", "created_at": created, "updated_at": created}).scalar_one()
            conn.execute(insert(table_of(TaskRow)), [{
                "id": str(uuid.uuid4()), "instance_id": instance, "case_id": case_id, "case_no": "-",
                "title": t["bpmn_id"], "assignee": None, "form_key": None, "due_provisional": False,
                "time_limit": None, "limit_working": True, "completed_by": None, "escalation_level": 0, **t}
                for t in tasks])
    return case_id
