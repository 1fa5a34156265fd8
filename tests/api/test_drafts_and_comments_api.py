"""Drafts of a task's form (暂存) and comments on a case, through the API: who may save and comment, what
is refused, where a draft comes back and when it goes, and comments on the case's timeline."""
from __future__ import annotations

from typing import Any

from tests.api.documented import assert_documented
from tests.conftest import Api


def _dispatch_task(api: Api, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    case = api.register(category="neighbor", **fields)
    return case, api.task(case["id"], "dispatch")


def _put_draft(api: Api, user: str, task_id: str, body: Any, expect: int = 204) -> Any:
    return api.call("PUT", user, f"/tasks/{task_id}/draft", expect, json=body)


def test_a_saved_draft_is_the_tasks_prefill_unchecked_over_the_suggestions(api: Api, client: Any) -> None:
    _, task = _dispatch_task(api)
    suggested = api.get("dispatch1", f"/tasks/{task['id']}")
    assert suggested["draft"] is None and suggested["data"]["handling_group"] == "mediation"
    # Half filled, and with a value the form would refuse: a draft is work in progress.
    _put_draft(api, "dispatch1", task["id"], {"data": {"complexity": "bogus", "dispatch_note": "先联系双方"}})
    opened = api.get("dispatch1", f"/tasks/{task['id']}")
    assert opened["data"] == {"handling_group": "mediation", "complexity": "bogus", "dispatch_note": "先联系双方"}
    assert opened["draft"]["saved_by"] == "dispatch1" and opened["draft"]["saved_at"].endswith("+08:00")
    assert_documented(client, "/tasks/{task_id}", "get", 200, opened)
    # A second save replaces the first.
    _put_draft(api, "dispatch1", task["id"], {"data": {"handling_group": "labor"}})
    assert api.get("dispatch1", f"/tasks/{task['id']}")["data"] == {"handling_group": "labor",
                                                                    "complexity": "simple"}


def test_completing_the_task_removes_its_draft(api: Api) -> None:
    case, task = _dispatch_task(api)
    _put_draft(api, "dispatch1", task["id"], {"data": {"dispatch_note": "草稿"}})
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    done = api.get("dispatch1", f"/tasks/{task['id']}")
    assert done["state"] == "completed" and done["draft"] is None and done["data"] == {}
    # And a completed task takes no draft.
    problem = _put_draft(api, "dispatch1", task["id"], {"data": {"dispatch_note": "晚了"}}, expect=409)
    assert problem["title"] == "Task is not open"


def test_each_save_is_on_the_audit_trail_without_the_values(api: Api) -> None:
    case, task = _dispatch_task(api)
    for note in ("第一稿", "第二稿"):
        _put_draft(api, "dispatch1", task["id"], {"data": {"dispatch_note": note}})
    saves = [e for e in api.get("admin1", f"/cases/{case['id']}")["timeline"] if e["action"] == "task.draft_saved"]
    assert [(e["actor"], e["detail"]["fields"]) for e in saves] == [("dispatch1", ["dispatch_note"])] * 2
    assert "第一稿" not in str(saves)


def test_only_those_who_may_complete_the_task_save_a_draft(api: Api) -> None:
    _, task = _dispatch_task(api)
    body = {"data": {"dispatch_note": "x"}}
    _put_draft(api, "mediator1", task["id"], body, expect=404)  # not their group's task: not even seen
    _put_draft(api, "supervisor1", task["id"], body, expect=403)  # overseen, not handled
    api.post("admin1", f"/tasks/{task['id']}/claim")
    problem = _put_draft(api, "dispatch1", task["id"], body, expect=409)  # held by someone else
    assert problem["title"] == "Task is held by someone else"
    _put_draft(api, "admin1", task["id"], body)
    _put_draft(api, "dispatch1", "no-such-task", body, expect=404)


def test_a_draft_must_be_a_json_object_of_at_most_64_kb(api: Api) -> None:
    _, task = _dispatch_task(api)
    for body in ({"data": [1, 2]}, {"data": "text"}, {}, {"data": {"dispatch_note": "长" * 22_000}}):
        problem = _put_draft(api, "dispatch1", task["id"], body, expect=422)
        assert [e["field"] for e in problem["errors"]] == ["data"], body
    _put_draft(api, "dispatch1", task["id"], {"data": {"dispatch_note": "长" * 21_000}})  # 63 KB in UTF-8
    assert api.get("dispatch1", f"/tasks/{task['id']}")["draft"] is not None


def test_a_comment_goes_on_the_case_timeline_with_its_text(api: Api, client: Any) -> None:
    case, _ = _dispatch_task(api)
    comment = api.post("intake1", f"/cases/{case['id']}/comments", 201, json={"text": "  申请人来电询问进度  "})
    assert {k: comment[k] for k in ("case_id", "text", "author")} == {
        "case_id": case["id"], "text": "申请人来电询问进度", "author": "intake1"}
    assert isinstance(comment["id"], int) and comment["created_at"].endswith("+08:00")
    assert_documented(client, "/cases/{case_id}/comments", "post", 201, comment)
    second = api.post("dispatch1", f"/cases/{case['id']}/comments", 201, json={"text": "已电话回复"})
    assert second["id"] != comment["id"]
    timeline = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    comments = [(e["actor"], e["detail"]["text"]) for e in timeline if e["action"] == "case.commented"]
    assert comments == [("intake1", "申请人来电询问进度"), ("dispatch1", "已电话回复")]


def test_only_those_who_see_the_case_comment_on_it(api: Api) -> None:
    case, _ = _dispatch_task(api)
    api.post("mediator1", f"/cases/{case['id']}/comments", 404, json={"text": "看不见的案件"})
    api.post("intake1", "/cases/999999/comments", 404, json={"text": "没有的案件"})
    api.post("supervisor1", f"/cases/{case['id']}/comments", 201, json={"text": "请按时分流"})


def test_a_comment_needs_1_to_2000_characters_not_only_spaces(api: Api) -> None:
    case, _ = _dispatch_task(api)
    for body in ({}, {"text": ""}, {"text": " \u3000 "}, {"text": 12}, {"text": "长" * 2001}):
        problem = api.post("intake1", f"/cases/{case['id']}/comments", 422, json=body)
        assert [e["field"] for e in problem["errors"]] == ["text"], body
        assert "长长" not in str(problem)  # (the message names the limit, it does not echo the text)
    api.post("intake1", f"/cases/{case['id']}/comments", 201, json={"text": "长" * 2000})
    assert not [e for e in api.get("admin1", f"/cases/{case['id']}")["timeline"]
                if e["action"] == "case.commented" and len(e["detail"]["text"]) != 2000]
