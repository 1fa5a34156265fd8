"""暂存 and comments on the pages: a half-filled form kept and shown again, and a comment on the case's
timeline."""
from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.ui.conftest import Pages


def _dispatch_task(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    case = api.register(category="neighbor")
    return case, api.task(case["id"], "dispatch")


def test_save_for_later_keeps_the_form_as_typed_and_completing_clears_it(pages: Pages, api: Api) -> None:
    case, task = _dispatch_task(api)
    pages.login("dispatch1")
    page = pages.get(f"/tasks/{task['id']}")
    assert ">暂存</button>" in page and "已暂存" not in page
    # The required complexity is left empty: a draft is not checked.
    saved = pages.post(f"/tasks/{task['id']}/draft", {"handling_group": "labor", "dispatch_note": "先电话联系双方"},
                       follow_redirects=True)
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    assert html.count("已暂存") == 2  # the message, and the mark beside the buttons
    assert '<option value="labor" selected>' in html and "先电话联系双方</textarea>" in html
    assert api.get("dispatch1", f"/tasks/{task['id']}")["data"]["dispatch_note"] == "先电话联系双方"
    done = pages.post(f"/tasks/{task['id']}", {"handling_group": "mediation", "complexity": "simple"})
    assert done.status_code == 302
    assert api.get("dispatch1", f"/tasks/{task['id']}")["draft"] is None
    # Too late now: the page says so and keeps nothing.
    late = pages.post(f"/tasks/{task['id']}/draft", {"dispatch_note": "晚了"})
    assert late.status_code == 409 and "stale" in late.get_data(as_text=True)
    timeline = pages.get(f"/cases/{case['id']}")
    assert "暂存了表单" in timeline


def test_a_comment_from_the_case_page_shows_on_its_timeline(pages: Pages, api: Api) -> None:
    case, _ = _dispatch_task(api)
    pages.login("intake1")
    added = pages.post(f"/cases/{case['id']}/comments", {"text": "申请人来电询问进度"}, follow_redirects=True)
    html = added.get_data(as_text=True)
    assert added.status_code == 200 and "评论已添加到办理记录。" in html
    timeline = html.split('<section class="card timeline">')[1]
    assert 'data-action="case.commented"' in timeline and "发表评论" in timeline
    assert '<q class="comment">申请人来电询问进度</q>' in timeline
    refused = pages.post(f"/cases/{case['id']}/comments", {"text": "   "}, follow_redirects=True)
    assert "请填写评论内容" in refused.get_data(as_text=True)
    assert api.get("admin1", f"/cases/{case['id']}")["timeline"][-1]["action"] == "case.commented"
    assert len([e for e in api.get("admin1", f"/cases/{case['id']}")["timeline"]
                if e["action"] == "case.commented"]) == 1
