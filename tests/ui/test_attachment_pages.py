"""Attachments on the case page: the upload form, the list with download links, the SHA-256 on the
timeline, refusals in the page's language, downloads only for who may see the case."""
from __future__ import annotations

import hashlib
import io

from tests.api.test_attachments_api import PDF
from tests.conftest import Api
from tests.ui.conftest import Pages


def test_a_file_attached_on_the_case_page_is_listed_and_downloads(pages: Pages, api: Api) -> None:
    case = api.register()
    pages.login("intake1")
    response = pages.post(f"/cases/{case['id']}/attachments", {"file": (io.BytesIO(PDF), "调解协议书.pdf")},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    html = pages.get(f"/cases/{case['id']}")
    assert "调解协议书.pdf 已上传。" in html
    section = html.split('id="attachments"')[1].split("</section>")[0]
    attached = api.get("intake1", f"/cases/{case['id']}/attachments")[0]
    link = f"/cases/{case['id']}/attachments/{attached['id']}"
    assert f'href="{link}"' in section and "调解协议书.pdf" in section
    assert hashlib.sha256(PDF).hexdigest() in html.split('class="card timeline"')[1]  # on the timeline
    download = pages.client.get(link)
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    Pages(pages.app).login("family1").get(link, status=404)


def test_a_file_that_is_not_an_allowed_kind_is_refused_in_chinese(pages: Pages, api: Api) -> None:
    case = api.register()
    pages.login("intake1")
    pages.post(f"/cases/{case['id']}/attachments", {"file": (io.BytesIO(b"<html></html>"), "agreement.pdf")},
               content_type="multipart/form-data")
    html = pages.get(f"/cases/{case['id']}")
    assert "只能上传 PDF、JPEG、PNG 图片" in html
    assert "暂无附件" in html  # nothing was attached


def test_the_upload_form_needs_the_csrf_token(pages: Pages, api: Api) -> None:
    case = api.register()
    pages.login("intake1")
    response = pages.client.post(f"/cases/{case['id']}/attachments", data={"file": (io.BytesIO(PDF), "a.pdf")},
                                 content_type="multipart/form-data")
    assert response.status_code == 400
    assert api.get("intake1", f"/cases/{case['id']}/attachments") == []


def test_the_task_s_case_panel_lists_the_case_s_attachments(pages: Pages, api: Api) -> None:
    case = api.register(category="neighbor")
    api.post("intake1", f"/cases/{case['id']}/attachments", 201, content_type="multipart/form-data",
             data={"file": (io.BytesIO(PDF), "起诉状.pdf")})
    api.work("dispatch1", case["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    api.work("mediator1", case["id"], "sign_for", {"accepted": True})
    task = api.task(case["id"], "handle")
    answer = api.get("mediator1", f"/tasks/{task['id']}")
    assert [(a["name"], a["sha256"]) for a in answer["case"]["attachments"]] == [
        ("起诉状.pdf", hashlib.sha256(PDF).hexdigest())]
    panel = pages.login("mediator1").get(f"/tasks/{task['id']}").split('class="card case-panel"')[1]
    panel = panel.split("</aside>")[0]
    link = f"/cases/{case['id']}/attachments/{answer['case']['attachments'][0]['id']}"
    assert f'href="{link}"' in panel and "起诉状.pdf" in panel
    assert pages.client.get(link).data == PDF  # the mediator handling the case may download it


def test_a_scan_larger_than_a_form_body_is_attached_on_the_page(pages: Pages, api: Api) -> None:
    case = api.register()
    scan = PDF + b"\n" * pages.app.config["MAX_CONTENT_LENGTH"]  # the CSRF check reads the form: it must not cut it
    response = pages.login("intake1").post(f"/cases/{case['id']}/attachments", {"file": (io.BytesIO(scan), "scan.pdf")},
                                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert [a["size"] for a in api.get("intake1", f"/cases/{case['id']}/attachments")] == [len(scan)]
