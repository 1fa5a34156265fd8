"""The registration page's case type chooser, case type names on the lists, and the designer's link to the
latest deployed files."""
from __future__ import annotations

import re

from tests.api.test_case_types_api import deploy_stall_permit
from tests.conftest import Api
from tests.ui.conftest import Pages, field_error


def test_the_registration_page_chooses_a_case_type_and_draws_its_start_form(pages: Pages, api: Api) -> None:
    deploy_stall_permit(api)
    pages.login("intake1")
    html = pages.get("/cases/new")
    # Every case type by its name; the default is chosen and its form drawn.
    assert re.search(r'data-case-type="dispute_case"\s+class="current"', html)
    assert "矛盾纠纷闭环流转" in html and "摊位临时占道申请" in html and 'name="parties[0].name"' in html

    html = pages.get("/cases/new?case_type=stall_permit")
    assert re.search(r'data-case-type="stall_permit"\s+class="current"', html)
    assert 'name="stall_days"' in html and "占道天数" in html and 'name="parties[0].name"' not in html
    assert 'action="/cases/new?case_type=stall_permit"' in html

    # The choice stays with the submission: refused, the same type's form comes back with its errors.
    refused = pages.post("/cases/new?case_type=stall_permit", {"title": "夜市摆摊", "source": "grid",
                                                                "stall_days": "120"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and field_error(html, "stall_days") and 'value="120"' in html
    assert re.search(r'data-case-type="stall_permit"\s+class="current"', html)
    done = pages.post("/cases/new?case_type=stall_permit", {"title": "夜市摆摊", "source": "grid",
                                                             "category": "night_market", "stall_days": "7"})
    assert done.status_code == 302
    case_id = int(done.headers["Location"].rsplit("/", 1)[-1])
    case_html = pages.get(f"/cases/{case_id}")
    assert "摊位临时占道申请" in case_html and "夜市摊位" in case_html  # the type's name, its own form's labels
    assert api.get("admin1", f"/cases/{case_id}")["case_type"] == "stall_permit"

    listing = pages.get("/cases?case_type=stall_permit")
    assert "夜市摆摊" in listing and '<td class="case-type">摊位临时占道申请</td>' in listing
    assert 'value="stall_permit" selected' in listing
    reviewer = Pages(pages.app).login("reviewer1")
    assert "摊位临时占道申请" in reviewer.get("/inbox")


def test_an_unknown_case_type_in_the_address_falls_back_to_the_default_saying_so(pages: Pages) -> None:
    pages.login("intake1")
    html = pages.get("/cases/new?case_type=road_repair")
    assert "没有案件类型“road_repair”" in html and 'name="parties[0].name"' in html


def test_the_designer_page_links_the_latest_deployed_files(pages: Pages) -> None:
    pages.login("designer1")
    html = pages.get("/designer")
    assert "/designer/dispute_case/1/files.zip" in html and "下载最新部署的文件（v1）" in html
