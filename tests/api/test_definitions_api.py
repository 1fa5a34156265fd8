"""Designers validate and deploy BPMN/DMN/form files; bad files are refused with file, line and element."""
from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from tests.conftest import BUNDLE, OPERATOR, Api

# The processes of the shipped files (processes/), as the listing orders them.
SHIPPED = ("dispute_case", "instruction", "instruction_department", "police_referral", "roadmap")


def _upload(files: dict[str, bytes]) -> dict[str, Any]:
    return {"data": {"files": [(io.BytesIO(content), name) for name, content in files.items()]},
            "content_type": "multipart/form-data"}


def test_designer_validates_the_shipped_route(api: Api) -> None:
    report = api.post("designer1", "/process-definitions/validate", **_upload(BUNDLE))
    assert {k: v for k, v in report.items() if k != "dry_run"} == {"valid": True, "errors": [], "warnings": []}
    assert report["dry_run"]["problems"] == [] and report["dry_run"]["paths"] > 0


def test_broken_bpmn_is_reported_with_file_line_and_element(api: Api) -> None:
    files = dict(BUNDLE)
    files["dispute_case.bpmn"] = files["dispute_case.bpmn"].replace(b"not satisfied and reopen_count &lt; 1",
                                                                    b"not satisfied and and reopen_count")
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    [error] = report["errors"]
    assert report["valid"] is False and error["file"] == "dispute_case.bpmn"
    assert error["element_id"] == "f_reopen" and error["line"] > 1
    problem = api.post("designer1", "/process-definitions", expect=422, **_upload(files))
    assert problem["errors"][0]["element_id"] == "f_reopen"
    assert [(d["key"], d["version"]) for d in api.get("designer1", "/process-definitions")] == [
        (key, 1) for key in SHIPPED]


def test_xml_with_entities_is_rejected(api: Api) -> None:
    files = {"evil.bpmn": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "boom">]><d>&x;</d>'}
    problem = api.post("designer1", "/process-definitions", expect=422, **_upload(files))
    assert "DOCTYPE" in problem["errors"][0]["message"]


def test_deploying_changed_files_makes_a_new_version_and_old_cases_keep_theirs(api: Api) -> None:
    old_case = api.register(category="labor")
    files = dict(BUNDLE)
    old, new = "交办意见".encode(), "交办意见（新）".encode()
    files["dispatch.schema.json"] = files["dispatch.schema.json"].replace(old, new)
    deployed = api.post("designer1", "/process-definitions", expect=201, **_upload(files))
    assert [(d["key"], d["version"]) for d in deployed["definitions"]] == [(key, 2) for key in SHIPPED]
    listing = [d for d in api.get("designer1", "/process-definitions") if d["key"] == "dispute_case"]
    assert [(d["version"], d["is_latest"]) for d in listing] == [(2, True), (1, False)]
    old_form = api.get("dispatch1", f"/tasks/{api.task(old_case['id'], 'dispatch')['id']}")["form"]["schema"]
    assert old_form["properties"]["dispatch_note"]["title"] == "交办意见"
    new_case = api.register(category="labor")
    new_form = api.get("dispatch1", f"/tasks/{api.task(new_case['id'], 'dispatch')['id']}")["form"]["schema"]
    assert new_form["properties"]["dispatch_note"]["title"] == "交办意见（新）"


def test_identical_files_deploy_nothing_new(api: Api) -> None:
    again = api.post("designer1", "/process-definitions", expect=200, **_upload(BUNDLE))
    assert [(d["version"], d["is_latest"]) for d in again["definitions"]] == [(1, True)] * len(SHIPPED)


def test_the_files_of_an_older_version_deploy_again_to_roll_back(api: Api) -> None:
    changed = dict(BUNDLE)
    changed["dispatch.schema.json"] = changed["dispatch.schema.json"].replace("交办意见".encode(), "意见".encode())
    api.post("designer1", "/process-definitions", expect=201, **_upload(changed))
    rolled_back = api.post("designer1", "/process-definitions", expect=201, **_upload(BUNDLE))
    assert [(d["key"], d["version"]) for d in rolled_back["definitions"]] == [(key, 3) for key in SHIPPED]
    case = api.register(category="labor")
    form = api.get("dispatch1", f"/tasks/{api.task(case['id'], 'dispatch')['id']}")["form"]["schema"]
    assert form["properties"]["dispatch_note"]["title"] == "交办意见"
    # The rolled-back files are now the latest: sending them once more changes nothing.
    again = api.post("designer1", "/process-definitions", expect=200, **_upload(BUNDLE))
    assert [d["version"] for d in again["definitions"]] == [3] * len(SHIPPED)


def test_only_designers_deploy(api: Api) -> None:
    api.post("mediator1", "/process-definitions", expect=403, **_upload(BUNDLE))
    api.post("intake1", "/process-definitions/validate", expect=403, **_upload(BUNDLE))


def test_upload_without_files_is_400(api: Api) -> None:
    api.post("designer1", "/process-definitions/validate", expect=400, data={}, content_type="multipart/form-data")


def test_unknown_file_types_and_bad_form_json_are_listed(api: Api) -> None:
    files = dict(BUNDLE)
    files["notes.txt"] = b"hello"
    files["handle.schema.json"] = b'{"type": "object", "properties": 5}'
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    assert {e["file"] for e in report["errors"]} == {"notes.txt", "handle.schema.json"}


def test_a_file_in_another_encoding_than_it_declares_is_refused_before_deploy(api: Api) -> None:
    files = dict(BUNDLE)
    # GBK bytes under a declaration that says UTF-8: the declaration decides, and line 3 is not UTF-8.
    files["dispute_case.bpmn"] = files["dispute_case.bpmn"].decode("utf-8").encode("gbk")
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    assert report["valid"] is False and "is not utf-8" in report["errors"][0]["message"].lower()
    assert report["errors"][0]["file"] == "dispute_case.bpmn" and report["errors"][0]["line"] > 1
    api.post("designer1", "/process-definitions", expect=422, **_upload(files))


def test_month_limits_must_count_calendar_months(api: Api) -> None:
    files = dict(BUNDLE)
    files["roadmap.bpmn"] = files["roadmap.bpmn"].replace(b'name="timeLimit" value="&quot;P3D&quot;"',
                                                          b'name="timeLimit" value="&quot;P3M&quot;"')
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    assert [e["element_id"] for e in report["errors"]] == ["choose_channel"]
    assert "calendar" in report["errors"][0]["message"]


# The triage task's status and limit (the task every case without a category reaches first).
_TRIAGE_LIMIT = (b'<spiffworkflow:property name="caseStatus" value="&quot;registered&quot;" />'
                 b'<spiffworkflow:property name="timeLimit" value="&quot;P1D&quot;" /></spiffworkflow:properties>'
                 b'</bpmn:extensionElements><bpmn:incoming>f_unclassified')


@pytest.mark.parametrize("status, limit, message", [
    (b"&quot;registered&quot;", b"&quot;-P1D&quot;", "is not an ISO 8601 duration"),
    (b"&quot;registered&quot;", b"&quot;P99999999D&quot;", "longer than the longest limit"),
    (b"&quot;registered&quot;", b"&quot;P1200M&quot;", "longer than the longest limit"),
    (b"&quot;registered&quot;", b"7", "is not a duration text"),
    (b"&quot;registered&quot;", b"&quot;P1D&quot; if urgency == &quot;urgent&quot; else &quot;1 day&quot;",
     "is not an ISO 8601 duration"),
    (b"&quot;bogus_status&quot;", b"&quot;P1D&quot;", "caseStatus 'bogus_status' is not one of"),
])
def test_time_limits_and_statuses_that_would_fail_every_case_are_refused_at_deploy(
        api: Api, status: bytes, limit: bytes, message: str) -> None:
    files = dict(BUNDLE)
    assert _TRIAGE_LIMIT in files["dispute_case.bpmn"]
    files["dispute_case.bpmn"] = files["dispute_case.bpmn"].replace(_TRIAGE_LIMIT, _TRIAGE_LIMIT.replace(
        b"&quot;registered&quot;", status).replace(b"&quot;P1D&quot;", limit))
    problem = api.post("designer1", "/process-definitions", expect=422, **_upload(files))
    assert {e["element_id"] for e in problem["errors"]} == {"triage"}
    assert any(message in e["message"] for e in problem["errors"]), problem["errors"]


def test_a_limit_computed_from_the_case_stays_allowed(api: Api) -> None:
    files = dict(BUNDLE)
    files["dispute_case.bpmn"] = files["dispute_case.bpmn"].replace(_TRIAGE_LIMIT, _TRIAGE_LIMIT.replace(
        b"&quot;P1D&quot;", b"&quot;PT4H&quot; if urgency == &quot;urgent&quot; else &quot;P1D&quot;"))
    assert api.post("designer1", "/process-definitions/validate", **_upload(files))["valid"] is True


def test_a_failed_deploy_leaves_no_forms_behind_and_a_deployed_form_is_served_as_deployed(
        api: Api, monkeypatch: Any) -> None:
    from app.services.designer import deployments
    from app.services.kernel import audit, definitions

    files = dict(BUNDLE)
    files["dispatch.schema.json"] = files["dispatch.schema.json"].replace("交办意见".encode(), "失败的版本".encode())

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the audit log is unavailable")
    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="unavailable"):
        patch.setattr(audit, "record", broken)
        deployments.deploy(OPERATOR, files)
    files["dispatch.schema.json"] = files["dispatch.schema.json"].replace("失败的版本".encode(), "新版本".encode())
    api.post("designer1", "/process-definitions", expect=201, **_upload(files))
    # The forms parsed to deploy the bundle are the ones served, without parsing them again.
    monkeypatch.setattr(definitions, "check_schema_file", broken)
    case = api.register(category="labor")
    form = api.get("dispatch1", f"/tasks/{api.task(case['id'], 'dispatch')['id']}")["form"]["schema"]
    assert form["properties"]["dispatch_note"]["title"] == "新版本"


def test_designer_downloads_the_files_a_version_was_deployed_from(api: Api, client: Any) -> None:
    files = dict(BUNDLE)
    old, new = "交办意见".encode(), "交办意见（二）".encode()
    files["dispatch.schema.json"] = files["dispatch.schema.json"].replace(old, new)
    api.post("designer1", "/process-definitions", expect=201, **_upload(files))
    listing = api.get("designer1", "/process-definitions/dispute_case/2/resources")
    assert [f["name"] for f in listing] == sorted(files)
    bpmn = next(f for f in listing if f["name"] == "dispute_case.bpmn")
    assert bpmn == {"name": "dispute_case.bpmn", "size": len(files["dispute_case.bpmn"]),
                    "media_type": "application/xml"}

    headers = api.headers("designer1")
    one = client.get("/api/v1/process-definitions/dispute_case/2/resources/dispatch.schema.json", headers=headers)
    assert one.status_code == 200 and one.mimetype == "application/json"
    assert one.data == files["dispatch.schema.json"]
    assert 'attachment; filename=dispatch.schema.json' in one.headers["Content-Disposition"]
    # Version 1 still gives the files it was deployed from.
    old = client.get("/api/v1/process-definitions/dispute_case/1/resources/dispatch.schema.json", headers=headers)
    assert old.data == BUNDLE["dispatch.schema.json"]

    archive = client.get("/api/v1/process-definitions/dispute_case/2/resources.zip", headers=headers)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    assert "dispute_case-v2.zip" in archive.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        assert {name: bundle.read(name) for name in bundle.namelist()} == files
        # Stamped with the deployment time in the centre's zone (the frozen clock: 2026-12-01 09:30).
        assert {info.date_time for info in bundle.infolist()} == {(2026, 12, 1, 9, 30, 0)}
    again = client.get("/api/v1/process-definitions/dispute_case/2/resources.zip", headers=headers)
    assert again.data == archive.data  # the same version downloads as the same bytes


def test_only_designers_and_supervisors_download_sources_and_unknown_ones_are_404(api: Api) -> None:
    assert api.get("intake1", "/process-definitions/dispute_case/1/resources", expect=403)["status"] == 403
    assert api.get("mediator1", "/process-definitions/dispute_case/1/resources.zip", expect=403)["status"] == 403
    assert api.get("supervisor1", "/process-definitions/dispute_case/1/resources")
    assert api.get("designer1", "/process-definitions/dispute_case/9/resources", expect=404)["status"] == 404
    assert api.get("designer1", "/process-definitions/nope/1/resources.zip", expect=404)["status"] == 404
    missing = api.get("designer1", "/process-definitions/dispute_case/1/resources/other.bpmn", expect=404)
    assert "other.bpmn" in missing["detail"]


def test_file_names_with_control_characters_are_refused(app: Any) -> None:
    # A multipart client can send one (filename*=UTF-8''a%0D%0Ab.json); it would break the downloads.
    from app.services.designer import deployments

    files = dict(BUNDLE)
    files["bad\r\nname.schema.json"] = files["dispatch.schema.json"]
    report = deployments.validate(OPERATOR, files)
    assert report.valid is False
    assert [(e.file, "control characters" in e.message) for e in report.errors] == [
        ("bad\\r\\nname.schema.json", True)]


@pytest.mark.parametrize("name, content, kind", [
    ("routing.dmn", b"<definitions/>", "not a DMN file"),
    ("dispute_case.bpmn", b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>', "not a BPMN file"),
])
def test_a_file_of_the_wrong_kind_is_named_with_its_line(api: Api, name: str, content: bytes, kind: str) -> None:
    files = {**BUNDLE, name: content}
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    problems = [e for e in report["errors"] if e["file"] == name]
    assert [(e["line"], kind in e["message"]) for e in problems] == [(1, True)]
