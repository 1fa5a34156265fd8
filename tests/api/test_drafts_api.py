"""The designer workbench's drafts: work in progress kept per designer, edited file by file, validated and
deployed; a stale editor's save is a conflict, and nobody else sees a draft."""
from __future__ import annotations

from typing import Any

from tests.conftest import Api


def _put(api: Api, draft: dict[str, Any], name: str, text: str, expect: int = 200,
         user: str = "designer1") -> Any:
    return api.call("PUT", user, f"/designer/drafts/{draft['id']}/files/{name}?revision={draft['revision']}", expect,
                    json={"text": text})


def test_a_draft_from_the_deployed_route_holds_its_files_and_deploys_a_new_version(api: Api) -> None:
    draft = api.post("designer1", "/designer/drafts", 201, json={"process_key": "dispute_case"})
    assert draft["based_on"] == "dispute_case:1" and "dispute_case.bpmn" in draft["files"]
    assert "register_case.schema.json" in draft["file_names"]
    bpmn = draft["files"]["dispute_case.bpmn"].replace('name="分流交办"', 'name="分流交办（新）"')
    saved = _put(api, draft, "dispute_case.bpmn", bpmn)
    assert saved["revision"] == draft["revision"] + 1
    assert api.post("designer1", f"/designer/drafts/{draft['id']}/validate")["valid"] is True
    # the editor's revision may come as If-Match, as an HTTP client would send an ETag
    response = api.client.post(f"/api/v1/designer/drafts/{draft['id']}/deploy",
                               headers={**api.headers("designer1"), "If-Match": f'"{saved["revision"]}"'})
    assert response.status_code == 201, response.get_json()
    deployed = response.get_json()
    assert ("dispute_case", 2) in [(d["key"], d["version"]) for d in deployed["definitions"]]
    assert api.get("designer1", "/designer/drafts") == []  # deployed: the deployment is now the record
    case = api.register(category="labor")
    assert api.task(case["id"], "dispatch")["title"] == "分流交办（新）"


def test_a_stale_save_is_a_conflict_and_loses_nothing(api: Api) -> None:
    draft = api.post("designer1", "/designer/drafts", 201, json={"process_key": "dispute_case"})
    first = _put(api, draft, "note.json", '{"type": "object"}')
    problem = _put(api, draft, "note.json", '{"type": "string"}', expect=409)  # still holds the old revision
    assert "revision" in problem["detail"]
    again = api.get("designer1", f"/designer/drafts/{draft['id']}")
    assert again["revision"] == first["revision"] and again["files"]["note.json"] == '{"type": "object"}'


def test_drafts_are_private_to_their_designer_and_refused_to_officers(api: Api) -> None:
    draft = api.post("designer1", "/designer/drafts", 201, json={"process_key": "dispute_case"})
    api.get("admin1", f"/designer/drafts/{draft['id']}", 404)  # even an administrator: it is not theirs
    assert api.get("admin1", "/designer/drafts") == []
    api.get("intake1", "/designer/drafts", 403)
    assert [d["id"] for d in api.get("designer1", "/designer/drafts")] == [draft["id"]]


def test_a_new_case_type_template_validates_and_its_draft_can_be_discarded(api: Api) -> None:
    draft = api.post("designer1", "/designer/drafts", 201, json={"new_key": "tenancy", "new_name": "租赁纠纷"})
    assert sorted(draft["file_names"]) == ["tenancy.bpmn", "tenancy_handle.schema.json",
                                           "tenancy_register.schema.json", "tenancy_register.uischema.json"]
    report = api.post("designer1", f"/designer/drafts/{draft['id']}/validate")
    assert report["valid"] is True, report
    api.call("DELETE", "designer1", f"/designer/drafts/{draft['id']}", 204)
    api.get("designer1", f"/designer/drafts/{draft['id']}", 404)


def test_bad_draft_requests_are_named(api: Api) -> None:
    problem = api.post("designer1", "/designer/drafts", 422, json={"new_key": "Bad Key"})
    assert problem["errors"][0]["field"] == "new_key"
    api.post("designer1", "/designer/drafts", 422, json={})
    api.post("designer1", "/designer/drafts", 404, json={"process_key": "no_such_route"})
    draft = api.post("designer1", "/designer/drafts", 201, json={"process_key": "dispute_case"})
    problem = _put(api, draft, "evil.exe", "x", expect=422)
    assert problem["errors"][0]["field"] == "name"


def test_scripts_and_conditions_are_checked_as_the_engine_parses_them(api: Api) -> None:
    assert api.post("designer1", "/designer/check", json={"text": "a == 1 and b", "kind": "expression"})["ok"]
    refused = api.post("designer1", "/designer/check", json={"text": "a ==", "kind": "expression"})
    assert refused["ok"] is False and "line" in refused["message"]
    unsafe = api.post("designer1", "/designer/check", json={"text": "x.__class__", "kind": "expression"})
    assert unsafe["ok"] is False
    assert api.post("designer1", "/designer/check", json={"text": "total = 1\nif total:\n    n = 2",
                                                          "kind": "script"})["ok"]
