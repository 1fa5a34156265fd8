"""The inbox and the escalation board read by cursor and by page number, their bounded totals, the case's
facts on every item, and the search and filters (issues 16 and 17)."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import insert, select

from app.database import db
from app.models import TaskRow
from app.services.kernel.keyset import TOTAL_LIMIT
from app.services.kernel.tasklist import WALK
from tests.conftest import Api


def _dispatch_ids(api: Api, query: str = "", per_page: int = 2, user: str = "dispatch1") -> list[str]:
    """Every dispatch task of the group inbox, read page by page through next_cursor."""
    seen, cursor = [], ""
    while True:
        answer = api.get(user, f"/tasks?scope=group&per_page={per_page}{query}{cursor}")
        seen += [item["id"] for item in answer["items"]]
        if answer["next_cursor"] is None:
            return seen
        cursor = f"&cursor={answer['next_cursor']}"


def test_cursor_pages_neither_repeat_nor_skip_a_task_while_tasks_are_added(api: Api, frozen_clock: Any) -> None:
    for _ in range(5):
        api.register(category="labor")
        frozen_clock.advance(timedelta(hours=3))  # due instants apart, and two registered at one instant
    api.register(category="labor")
    everything = _dispatch_ids(api, per_page=50)
    assert len(everything) == 6

    seen, cursor, added = [], "", []
    while True:
        answer = api.get("dispatch1", f"/tasks?scope=group&per_page=2{cursor}")
        assert answer["page"] is (None if cursor else 1) and answer["per_page"] == 2
        seen += [item["id"] for item in answer["items"]]
        # Between pages, new cases arrive, at the instant of the last one before: same due and created
        # instants, so each sorts before or after the cursor by its id.
        added.append(api.register(category="labor")["id"])
        if answer["next_cursor"] is None:
            break
        cursor = f"&cursor={answer['next_cursor']}"
    assert len(seen) == len(set(seen)), "a task was listed twice"
    assert set(everything) <= set(seen), "a task was skipped"
    assert [task for task in seen if task in everything] == everything  # in the order they had


def test_previous_cursor_goes_back_to_the_page_before(api: Api, frozen_clock: Any) -> None:
    for _ in range(5):
        api.register(category="labor")
        frozen_clock.advance(timedelta(hours=1))
    first = api.get("dispatch1", "/tasks?scope=group&per_page=2")
    assert first["prev_cursor"] is None and first["total"] == 5 and first["total_is_exact"] is True
    second = api.get("dispatch1", f"/tasks?scope=group&per_page=2&cursor={first['next_cursor']}")
    third = api.get("dispatch1", f"/tasks?scope=group&per_page=2&cursor={second['next_cursor']}")
    assert len(third["items"]) == 1 and third["next_cursor"] is None
    back = api.get("dispatch1", f"/tasks?scope=group&per_page=2&cursor={third['prev_cursor']}")
    assert [t["id"] for t in back["items"]] == [t["id"] for t in second["items"]]
    back = api.get("dispatch1", f"/tasks?scope=group&per_page=2&cursor={back['prev_cursor']}")
    assert [t["id"] for t in back["items"]] == [t["id"] for t in first["items"]] and back["prev_cursor"] is None
    # The page-number form reads the same pages.
    by_number = api.get("dispatch1", "/tasks?scope=group&per_page=2&page=2")
    assert [t["id"] for t in by_number["items"]] == [t["id"] for t in second["items"]]
    assert by_number["page"] == 2 and by_number["prev_cursor"] and by_number["next_cursor"]


def test_a_cursor_the_list_did_not_give_out_is_refused(api: Api) -> None:
    api.register(category="labor")
    for cursor in ("nonsense", "W10", quote("W1siYWZ0ZXIiXV0"), "eyJ4IjoxfQ"):
        problem = api.get("dispatch1", f"/tasks?cursor={cursor}", expect=422)
        assert problem["errors"][0]["field"] == "cursor"
    api.get("supervisor1", "/escalations?cursor=nonsense", expect=422)


def test_totals_are_exact_up_to_the_limit_and_say_so_beyond_it(api: Api) -> None:
    case = api.register(category="labor")
    answer = api.get("dispatch1", "/tasks?scope=group")
    assert (answer["total"], answer["total_is_exact"], answer["next_cursor"]) == (1, True, None)
    # A city's inbox: the one real task cloned past the limit, straight into the table.
    with db.command() as conn:
        task = conn.execute(select(TaskRow.__table__).where(TaskRow.case_id == case["id"])).one()._asdict()
        conn.execute(insert(TaskRow.__table__), [{**task, "id": str(uuid.uuid4())} for _ in range(TOTAL_LIMIT + 4)])
    answer = api.get("dispatch1", "/tasks?scope=group&per_page=200")
    assert (answer["total"], answer["total_is_exact"]) == (TOTAL_LIMIT, False)  # "more than 1000"
    seen = _dispatch_ids(api, per_page=200)
    assert len(seen) == len(set(seen)) == TOTAL_LIMIT + 5
    last = api.get("dispatch1", "/tasks?scope=group&per_page=200&page=6")
    assert len(last["items"]) == 5 and last["next_cursor"] is None and last["total_is_exact"] is False


def test_items_carry_the_cases_facts(api: Api) -> None:
    case = api.register(user="integration1", source="hotline_12345", external_id="GD20261127000101",
                        category="labor", title="外卖骑手工资拖欠")
    [item] = api.get("dispatch1", "/tasks?scope=group")["items"]
    assert {k: item[k] for k in ("case_title", "category", "urgency", "source", "external_id")} == {
        "case_title": "外卖骑手工资拖欠", "category": "labor", "urgency": "normal", "source": "hotline_12345",
        "external_id": "GD20261127000101"}
    assert api.get("dispatch1", f"/tasks/{item['id']}")["external_id"] == "GD20261127000101"
    assert api.get("supervisor1", "/tasks?scope=all")["items"][0]["case_title"] == case["title"]


def _found(api: Api, user: str, q: str, scope: str = "group") -> list[str]:
    return [t["case_no"] for t in api.get(user, f"/tasks?scope={scope}&q={quote(q)}")["items"]]


def test_search_by_case_number_work_order_title_and_for_handlers_a_partys_name_or_phone(api: Api) -> None:
    order = api.register(user="integration1", source="hotline_12345", external_id="GD20261127000101",
                         category="labor", title="外卖骑手工资拖欠",
                         parties=[{"name": "陈磊", "role": "applicant", "phone": "13912345678"}])
    noise = api.register(category="neighbor", title="装修噪音扰民", parties=[
        {"name": "张三", "role": "applicant", "phone": "13800138000"}])
    assert _found(api, "dispatch1", "GD20261127000101") == [order["case_no"]]
    assert _found(api, "dispatch1", "GD2026112700") == [order["case_no"]]  # the start of a work order
    assert _found(api, "dispatch1", order["case_no"]) == [order["case_no"]]
    assert set(_found(api, "dispatch1", order["case_no"][:-1])) == {order["case_no"], noise["case_no"]}
    assert _found(api, "dispatch1", "噪音") == [noise["case_no"]]
    assert _found(api, "dispatch1", "骑手工资") == [order["case_no"]]
    assert _found(api, "dispatch1", "13912345678") == [order["case_no"]]  # the dispatcher handles it
    assert _found(api, "dispatch1", "陈磊") == [order["case_no"]]
    assert _found(api, "dispatch1", "100%_") == [] and _found(api, "dispatch1", "GD%") == []
    # A supervisor sees the task but not the parties' data: their phone and name find nothing.
    assert _found(api, "supervisor1", order["case_no"], scope="all") == [order["case_no"]]
    assert _found(api, "supervisor1", "13912345678", scope="all") == []
    assert _found(api, "supervisor1", "陈磊", scope="all") == []
    # Nor does a mediator find another group's task, by anything.
    assert _found(api, "mediator1", "GD20261127000101") == []


def test_filters_by_category_level_and_due_instant_on_the_inbox_and_the_board(api: Api) -> None:
    labor = api.register(category="labor")
    neighbor = api.register(category="neighbor")
    listed = api.task(labor["id"], "dispatch")
    api.post("supervisor1", f"/tasks/{listed['id']}/list", json={"note": "请书面说明"})  # 挂牌督办: level 3

    def numbers(path: str, user: str = "dispatch1") -> list[str]:
        return sorted(t["case_no"] for t in api.get(user, path)["items"])

    assert numbers("/tasks?category=labor") == [labor["case_no"]]
    assert numbers("/tasks?category=neighbor") == [neighbor["case_no"]]
    assert numbers("/tasks?level=3") == [labor["case_no"]]
    assert numbers("/tasks?level=0") == [neighbor["case_no"]]
    assert numbers("/tasks?level=0&category=labor") == []
    # Both due on 3 December (00:00 in the centre's time zone).
    assert numbers("/tasks?due_before=2026-12-03") == []
    assert numbers("/tasks?due_before=2026-12-04") == sorted([labor["case_no"], neighbor["case_no"]])
    assert numbers("/tasks?due_before=2026-12-03T00:00:01%2B08:00") == sorted([labor["case_no"], neighbor["case_no"]])
    # The board: the listed task only, with the same search and filters.
    assert numbers("/escalations", "supervisor1") == [labor["case_no"]]
    assert numbers("/escalations?category=labor&level=3", "supervisor1") == [labor["case_no"]]
    assert numbers("/escalations?category=neighbor", "supervisor1") == []
    assert numbers(f"/escalations?q={labor['case_no']}", "supervisor1") == [labor["case_no"]]
    assert numbers(f"/escalations?q={neighbor['case_no']}", "supervisor1") == []
    assert numbers("/escalations?due_before=2026-12-03", "supervisor1") == []
    board = api.get("supervisor1", "/escalations")
    assert board["items"][0]["case_title"] == labor["title"] and board["total_is_exact"] is True
    for bad in ("level=4", "level=x", "due_before=tomorrow", "due_before=1900-01-01"):
        api.get("dispatch1", f"/tasks?{bad}", expect=422)
    api.get("supervisor1", "/escalations?due_before=12/03", expect=422)


def test_a_township_supervisor_pages_through_the_groups_they_oversee_only(api: Api, frozen_clock: Any) -> None:
    cases = []
    for group in ("mediation", "family", "property", "mediation", "family"):  # hexi's property is not theirs
        case = api.register(category="neighbor")
        api.work("dispatch1", case["id"], "dispatch", {"handling_group": group, "complexity": "general"})
        cases.append((group, case["case_no"]))
        frozen_clock.advance(timedelta(hours=2))
    theirs = sorted(number for group, number in cases if group != "property")
    seen, cursor = [], ""
    while True:  # per group ranges merged, one task a page
        answer = api.get("supervisor2", f"/tasks?scope=all&per_page=1{cursor}")
        seen += [t["case_no"] for t in answer["items"]]
        if not answer["next_cursor"]:
            break
        cursor = f"&cursor={answer['next_cursor']}"
    assert sorted(seen) == theirs and len(seen) == len(set(seen))
    assert api.get("supervisor2", "/tasks?scope=all")["total"] == len(theirs)


def test_a_search_that_reads_the_list_in_order_stops_after_a_stretch_and_goes_on_by_cursor(api: Api) -> None:
    noise = api.register(category="neighbor", title="装修噪音扰民")
    other = api.register(category="labor", title="外卖骑手工资拖欠")
    with db.command() as conn:  # a stretch longer than one search reads, all due before the noise case's task
        task = conn.execute(select(TaskRow.__table__).where(TaskRow.case_id == other["id"])).one()._asdict()
        earlier = task["created_at"] - timedelta(days=1)
        conn.execute(insert(TaskRow.__table__), [{**task, "id": str(uuid.uuid4()), "created_at": earlier}
                                                 for _ in range(WALK + 5)])
    first = api.get("dispatch1", f"/tasks?q={quote('噪音')}")  # two characters: titles tested as read
    assert first["items"] == [] and first["next_cursor"] and first["total_is_exact"] is False
    found, cursor = [], first["next_cursor"]
    while cursor:
        answer = api.get("dispatch1", f"/tasks?q={quote('噪音')}&cursor={cursor}")
        found += [t["case_no"] for t in answer["items"]]
        cursor = answer["next_cursor"]
    assert found == [noise["case_no"]]


def test_a_search_read_in_stretches_with_a_category_skips_nothing(api: Api) -> None:
    noise = api.register(category="neighbor", title="装修噪音扰民")
    other = api.register(category="labor", title="外卖骑手工资拖欠")
    with db.command() as conn:
        task = conn.execute(select(TaskRow.__table__).where(TaskRow.case_id == other["id"])).one()._asdict()
        earlier = task["created_at"] - timedelta(days=1)
        conn.execute(insert(TaskRow.__table__), [{**task, "id": str(uuid.uuid4()), "created_at": earlier}
                                                 for _ in range(WALK + 5)])
    found, cursor = [], ""
    while True:
        answer = api.get("dispatch1", f"/tasks?q={quote('噪音')}&category=neighbor{cursor}")
        found += [t["case_no"] for t in answer["items"]]
        if not answer["next_cursor"]:
            break
        cursor = f"&cursor={answer['next_cursor']}"
    assert found == [noise["case_no"]]
