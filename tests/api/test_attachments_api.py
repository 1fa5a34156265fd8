"""Case attachments: files judged by their content, a size limit, stored under their SHA-256, on the
case's timeline, downloaded with the case's permissions."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.runtime import settings

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20 + b"\xff\xd9"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def office(part: str) -> bytes:
    """A minimal Office document: a zip archive holding its content types and its main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return buffer.getvalue()


def upload(api: Any, user: str, case_id: int, content: bytes, name: str, expect: int = 201) -> Any:
    return api.post(user, f"/cases/{case_id}/attachments", expect, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(content), name)})


@pytest.mark.parametrize(("content", "name", "media_type"), [
    (PDF, "调解协议书.pdf", "application/pdf"), (JPEG, "现场照片.jpg", "image/jpeg"), (PNG, "photo.png", "image/png"),
    (office("word/document.xml"), "判决书.docx", DOCX_TYPE), (office("xl/workbook.xml"), "清单.xlsx", XLSX_TYPE)])
def test_each_allowed_kind_is_attached_with_its_type_size_and_sha256(api: Any, app: Any, content: bytes, name: str,
                                                                     media_type: str) -> None:
    case = api.register()
    attached = upload(api, "intake1", case["id"], content, name)
    sha256 = hashlib.sha256(content).hexdigest()
    assert {k: attached[k] for k in ("name", "size", "media_type", "sha256")} == {
        "name": name, "size": len(content), "media_type": media_type, "sha256": sha256}
    stored = Path(app.config["ATTACHMENT_DIR"]) / sha256[:2] / sha256  # under its hash, never its name
    assert stored.read_bytes() == content
    assert api.get("intake1", f"/cases/{case['id']}/attachments") == [attached]
    assert api.get("intake1", f"/cases/{case['id']}")["attachments"] == [attached]


def test_the_timeline_records_name_size_and_sha256(api: Any) -> None:
    case = api.register()
    attached = upload(api, "intake1", case["id"], PDF, "agreement.pdf")
    entries = [e for e in api.get("admin1", f"/cases/{case['id']}")["timeline"]
               if e["action"] == "case.attachment_added"]
    assert [(e["actor"], e["detail"]["name"], e["detail"]["size"], e["detail"]["sha256"]) for e in entries] == [
        ("intake1", "agreement.pdf", len(PDF), hashlib.sha256(PDF).hexdigest())]
    assert entries[0]["detail"]["attachment_id"] == attached["id"]


@pytest.mark.parametrize(("content", "name"), [
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "setup.exe"),
    (b"<html><script>alert(1)</script></html>", "agreement.pdf"),  # a page renamed .pdf
    (office("content.xml"), "notes.docx"),  # a zip archive that is not a Word document
    (b"PK\x03\x04 not really a zip", "broken.xlsx"),
    (b"", "empty.pdf")])
def test_anything_else_is_refused_by_its_content_with_a_bilingual_message(api: Any, app: Any, content: bytes,
                                                                           name: str) -> None:
    case = api.register()
    problem = upload(api, "intake1", case["id"], content, name, expect=415)
    assert "只能上传 PDF" in problem["detail"] and "judged by its content" in problem["detail"]
    assert api.get("intake1", f"/cases/{case['id']}/attachments") == []
    directory = Path(app.config["ATTACHMENT_DIR"])
    assert not [p for p in directory.rglob("*") if p.is_file()]  # the refused upload left nothing behind


def test_a_file_over_the_limit_is_refused_with_413(api: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(settings, "MAX_ATTACHMENT_BYTES", 1000)
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1000)
    case = api.register()
    upload(api, "intake1", case["id"], PDF + b"\n" * (1000 - len(PDF)), "exactly-the-limit.pdf")
    problem = upload(api, "intake1", case["id"], PDF + b"\n" * (1001 - len(PDF)), "one-byte-more.pdf", expect=413)
    assert "附件不能超过" in problem["detail"] and "at most" in problem["detail"]
    assert [a["name"] for a in api.get("intake1", f"/cases/{case['id']}/attachments")] == ["exactly-the-limit.pdf"]
    # A body beyond every limit (CONCORD_MAX_BODY_BYTES too) is refused before it is read.
    upload(api, "intake1", case["id"], PDF + b"\n" * app.config["MAX_CONTENT_LENGTH"], "huge.pdf", expect=413)
    assert len(api.get("intake1", f"/cases/{case['id']}/attachments")) == 1


def test_an_attachment_may_be_larger_than_a_json_body(api: Any, app: Any) -> None:
    case = api.register()
    content = PDF + b"\n" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert upload(api, "intake1", case["id"], content, "scan.pdf")["size"] == len(content)


def test_download_for_who_may_see_the_case_and_404_for_who_may_not(api: Any, client: Any) -> None:
    case = api.register()
    attached = upload(api, "intake1", case["id"], PNG, "../../etc/现场 照片.png")
    assert attached["name"] == "现场 照片.png"  # the path the browser sent is not kept
    path = f"/api/v1/cases/{case['id']}/attachments/{attached['id']}"
    for user in ("intake1", "admin1"):
        response = client.get(path, headers=api.headers(user))
        assert response.status_code == 200
        assert response.data == PNG
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(path, headers=api.headers("family1")).status_code == 404
    api.get("family1", f"/cases/{case['id']}/attachments", expect=404)
    upload(api, "family1", case["id"], PDF, "x.pdf", expect=404)
    api.get("intake1", f"/cases/{case['id']}/attachments/{attached['id'] + 1}", expect=404)
    other = api.register(title="另一案")
    api.get("intake1", f"/cases/{other['id']}/attachments/{attached['id']}", expect=404)  # not that case's


def test_an_upload_without_the_file_field_is_a_bad_request(api: Any) -> None:
    case = api.register()
    api.post("intake1", f"/cases/{case['id']}/attachments", 400, content_type="multipart/form-data",
             data={"other": (io.BytesIO(PDF), "a.pdf")})
