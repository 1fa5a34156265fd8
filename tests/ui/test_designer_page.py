"""The designer page shows the dry run of an upload: paths, coverage per process and its problems."""
from __future__ import annotations

import io
import re
from typing import Any

from tests.conftest import BUNDLE
from tests.ui.conftest import Pages


def _validate(pages: Pages, files: dict[str, bytes]) -> Any:
    uploads = [(io.BytesIO(content), name) for name, content in files.items()]
    return pages.login("designer1").post("/designer/upload", {"files": uploads, "action": "validate"},
                                         content_type="multipart/form-data")


def test_one_edited_route_shows_its_dry_run_and_the_files_it_took(pages: Pages) -> None:
    response = _validate(pages, {"dispute_case.bpmn": BUNDLE["dispute_case.bpmn"].replace(
        "交办".encode(), "分派".encode(), 1)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    run = re.search(r'class="dry-run" data-paths="(\d+)" data-reached="(\d+)" data-elements="(\d+)"', html)
    assert run and int(run.group(1)) > 10 and run.group(2) == run.group(3)
    assert '<tr data-key="dispute_case">' in html
    assert "已取自已部署的 dispute_case v1" in html  # the page speaks its language's half


def test_a_planted_error_is_listed_with_its_element(pages: Pages) -> None:
    route = BUNDLE["dispute_case.bpmn"].replace(b"reopen_count = reopen_count + 1", b"reopen_count = reopen_cnt + 1")
    response = _validate(pages, {"dispute_case.bpmn": route})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<li class="problem" data-element-id="reopen_case">', html)
    assert "试运行" in html and "reopen_cnt" in html
