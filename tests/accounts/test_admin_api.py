"""Administration through the API: centres, groups, users, integration keys, login protection."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from app import clock
from tests.conftest import PASSWORD, Api

NEW_PASSWORD = "another-password-9"


def _login(api: Api, username: str, password: str = PASSWORD) -> Any:
    return api.client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_demo_seed_makes_a_county_with_two_townships_and_places_the_groups(api: Api) -> None:
    centres = {c["key"]: c for c in api.get("admin1", "/centres")}
    assert centres["county"]["parent"] is None
    assert centres["chengguan"]["parent"] == centres["hexi"]["parent"] == "county"
    groups = {g["key"]: g for g in api.get("admin1", "/groups")}
    assert groups["mediation"] == {"key": "mediation", "name": "人民调解室", "name_en": "People's mediation room",
                                   "kind": "mediation", "centre": "chengguan"}
    assert groups["dispatch"]["centre"] == "county" and groups["property"]["centre"] == "hexi"


def test_centres_and_groups_are_created_and_refused_with_clear_codes(api: Api) -> None:
    api.post("admin1", "/centres", 201, json={"key": "xinan", "name": "西南镇综治中心", "parent": "county"})
    api.post("admin1", "/centres", 409, json={"key": "xinan", "name": "重复", "parent": "county"})
    api.post("admin1", "/centres", 422, json={"key": "Bad-Key", "name": "x"})
    api.post("admin1", "/centres", 422, json={"key": "orphan", "name": "x", "parent": "nowhere"})
    created = api.post("admin1", "/groups", 201, json={"key": "grid_office", "name": "网格办", "kind": "department",
                                                       "centre": "xinan"})
    assert created == {"key": "grid_office", "name": "网格办", "name_en": None, "kind": "department",
                       "centre": "xinan"}
    api.post("admin1", "/groups", 409, json={"key": "grid_office", "name": "又一个", "kind": "department",
                                             "centre": "xinan"})
    bad = api.post("admin1", "/groups", 422, json={"key": "9x", "name": "x", "kind": "department",
                                                   "centre": "xinan"})
    assert bad["errors"][0]["field"] == "key"
    api.post("admin1", "/groups", 422, json={"key": "police", "name": "派出所", "kind": "army", "centre": "xinan"})
    renamed = api.call("PATCH", "admin1", "/groups/grid_office", json={"name": "网格化服务管理中心"})
    assert renamed["name"] == "网格化服务管理中心"
    api.post("intake1", "/groups", 403, json={"key": "mine", "name": "x", "kind": "window", "centre": "xinan"})
    api.call("PATCH", "admin1", "/centres/county", 422, json={"parent": "xinan"})  # under its own township


def test_a_new_group_names_its_centre_by_key_or_goes_to_the_root(api: Api) -> None:
    for n, centre in enumerate((False, 0, [], {})):  # not "left out", however falsy: no centre's key
        refused = api.post("admin1", "/groups", 422, json={"key": f"odd_{n}", "name": "x", "kind": "department",
                                                           "centre": centre})
        assert [e["field"] for e in refused["errors"]] == ["centre"]
    for n, centre in enumerate(({"centre": None}, {"centre": ""}, {})):
        rooted = api.post("admin1", "/groups", 201, json={"key": f"rooted_{n}", "name": "x", "kind": "department",
                                                          **centre})
        assert rooted["centre"] == "county"


def test_a_removal_answers_204_without_content_or_media_type(api: Api) -> None:
    api.post("admin1", "/groups", 201, json={"key": "spare", "name": "备用组", "kind": "department"})
    made = api.post("admin1", "/integration-keys", 201, json={"name": "110 对接", "source": "police_110"})
    for path in ("/groups/spare", f"/integration-keys/{made['id']}"):
        removed = api.client.delete(f"/api/v1{path}", headers=api.headers("admin1"))
        assert removed.status_code == 204 and not removed.data and "Content-Type" not in removed.headers


def test_a_group_with_open_tasks_cannot_be_removed_and_says_how_many(api: Api) -> None:
    api.register(category="neighbor")
    api.register(category="neighbor")
    refused = api.call("DELETE", "admin1", "/groups/dispatch", 409)
    assert "2" in refused["detail"]
    api.post("admin1", "/groups", 201, json={"key": "spare", "name": "备用组", "kind": "department",
                                             "centre": "county"})
    api.call("DELETE", "admin1", "/groups/spare", 204)
    api.call("DELETE", "admin1", "/groups/spare", 404)


def test_users_are_created_listed_and_refused_for_bad_input(api: Api) -> None:
    body = {"username": "window2", "display_name": "窗口二", "password": "window-pass-1", "roles": ["intake"],
            "groups": ["intake"]}
    created = api.post("admin1", "/users", 201, json=body)
    assert created == {"username": "window2", "display_name": "窗口二", "roles": ["intake"], "groups": ["intake"],
                       "active": True, "must_change_password": False}
    assert not {"password", "password_hash"} & set(created)
    api.post("admin1", "/users", 409, json=body)
    weak = api.post("admin1", "/users", 422, json={**body, "username": "w3", "password": "short"})
    assert weak["errors"][0]["field"] == "password"
    api.post("admin1", "/users", 422, json={**body, "username": "samename12", "password": "samename12"})
    api.post("admin1", "/users", 422, json={**body, "username": "w5", "roles": ["wizard"]})
    unknown = api.post("admin1", "/users", 422, json={**body, "username": "w6", "groups": ["nowhere"]})
    assert unknown["errors"][0]["field"] == "groups" and "nowhere" in unknown["errors"][0]["message"]
    listed = api.get("admin1", "/users?q=窗口")
    assert [u["username"] for u in listed["items"]] == ["intake1", "window2"] and listed["total"] == 2
    api.get("intake1", "/users", 403)
    assert _login(api, "window2", "window-pass-1").status_code == 200


def test_deactivating_ends_logins_at_once_and_hands_claimed_tasks_back(api: Api) -> None:
    case = api.register(category="neighbor")
    task = api.task(case["id"], "dispatch")
    api.post("dispatch1", f"/tasks/{task['id']}/claim")
    headers = api.headers("dispatch1")
    api.call("PATCH", "admin1", "/users/dispatch1", json={"active": False})
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 401
    assert _login(api, "dispatch1").status_code == 401
    again = api.get("admin1", f"/tasks/{task['id']}")
    assert again["assignee"] is None
    timeline = api.get("admin1", f"/cases/{case['id']}")["timeline"]
    assert any(e["action"] == "task.unclaimed" and e["detail"].get("reason") == "user deactivated"
               for e in timeline)


def test_the_last_active_administrator_cannot_be_deactivated(api: Api) -> None:
    refused = api.call("PATCH", "admin1", "/users/admin1", 409, json={"active": False})
    assert "administrator" in refused["detail"]
    api.call("PATCH", "admin1", "/users/admin1", 409, json={"roles": ["supervisor"]})
    api.post("admin1", "/users", 201, json={"username": "admin2", "display_name": "管理员二",
                                            "password": "admin-pass-22", "roles": ["admin"], "groups": []})
    api.call("PATCH", "admin1", "/users/admin1", json={"active": False})


def test_a_reset_password_must_be_changed_before_anything_else(api: Api) -> None:
    api.post("admin1", "/users/mediator1/reset-password", json={"password": "temporary-pass-1"})
    assert _login(api, "mediator1").status_code == 401  # the old password is gone
    answer = _login(api, "mediator1", "temporary-pass-1").get_json()
    assert answer["must_change_password"] is True
    headers = _bearer(answer["token"])
    blocked = api.client.get("/api/v1/tasks", headers=headers)
    assert blocked.status_code == 403 and blocked.mimetype == "application/problem+json"
    wrong = api.client.post("/api/v1/auth/password", headers=headers,
                            json={"old_password": "nope", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "old_password"
    changed = api.client.post("/api/v1/auth/password", headers=headers,
                              json={"old_password": "temporary-pass-1", "new_password": NEW_PASSWORD})
    assert changed.status_code == 200
    fresh = _login(api, "mediator1", NEW_PASSWORD).get_json()
    assert fresh["must_change_password"] is False
    assert api.client.get("/api/v1/tasks", headers=_bearer(fresh["token"])).status_code == 200


def test_five_failed_logins_lock_the_username_for_the_window_even_with_the_right_password(
        api: Api, frozen_clock: clock.FrozenClock) -> None:
    for _ in range(5):
        assert _login(api, "intake1", "wrong-password").status_code == 401
    locked = _login(api, "intake1")
    assert locked.status_code == 429 and locked.mimetype == "application/problem+json"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert _login(api, "dispatch1").status_code == 200  # other usernames are not affected
    frozen_clock.advance(timedelta(minutes=15, seconds=1))
    assert _login(api, "intake1").status_code == 200
    failures = [e for e in _audit() if e["action"] == "auth.failed"]
    assert len(failures) == 5 and all("password" not in str(e["detail"]) for e in failures)


def _audit() -> list[dict[str, Any]]:
    from sqlalchemy import select

    from app.database import db
    from app.models import AuditEntry

    with db.transaction() as session:
        return [{"action": e.action, "detail": e.detail} for e in session.scalars(select(AuditEntry))]


def test_an_integration_key_registers_cases_until_it_is_revoked(api: Api) -> None:
    made = api.post("admin1", "/integration-keys", 201, json={"name": "12345热线对接", "source": "hotline_12345"})
    key = made["key"]
    assert key.startswith("ck_") and key not in str(api.get("admin1", "/integration-keys"))
    body = {"title": "噪音投诉", "description": "夜间施工噪音", "source": "hotline_12345",
            "external_id": "GD20261201000001",
            "parties": [{"name": "张三", "role": "applicant", "phone": "13800138000"}]}
    registered = api.client.post("/api/v1/cases", headers=_bearer(key), json=body)
    assert registered.status_code == 201
    assert api.client.get("/api/v1/tasks?scope=all", headers=_bearer(key)).status_code == 403
    api.call("DELETE", "admin1", f"/integration-keys/{made['id']}", 204)
    assert api.client.post("/api/v1/cases", headers=_bearer(key), json=body).status_code == 401
    api.call("DELETE", "admin1", f"/integration-keys/{made['id']}", 404)
    api.post("admin1", "/integration-keys", 422, json={"name": "", "source": "x"})


def test_a_township_supervisor_sees_only_the_work_of_their_township(api: Api) -> None:
    in_chengguan = api.register(category="neighbor")
    api.work("dispatch1", in_chengguan["id"], "dispatch", {"handling_group": "mediation", "complexity": "simple"})
    in_hexi = api.register(category="neighbor")
    api.work("dispatch1", in_hexi["id"], "dispatch", {"handling_group": "property", "complexity": "simple"})
    seen = {c["id"] for c in api.get("supervisor2", "/cases")["items"]}
    assert in_chengguan["id"] in seen and in_hexi["id"] not in seen
    api.get("supervisor2", f"/cases/{in_hexi['id']}", 404)
    tasks = api.get("supervisor2", "/tasks?scope=all")["items"]
    assert {t["group"] for t in tasks} == {"mediation"}
    hexi_task = api.task(in_hexi["id"], "sign_for")
    api.get("supervisor2", f"/tasks/{hexi_task['id']}", 404)
    everything = {c["id"] for c in api.get("supervisor1", "/cases")["items"]}
    assert {in_chengguan["id"], in_hexi["id"]} <= everything  # the county sees both townships
    report = api.get("supervisor2", "/reports/summary?group_by=group")
    assert report["total"]["received"] == 1


def test_validate_warns_about_a_lane_that_names_no_group(api: Api) -> None:
    from tests.conftest import BUNDLE

    source = BUNDLE["dispute_case.bpmn"].decode("utf-8").replace('name="intake"', 'name="grid_office"', 1)
    files = [("files", (name, content if name != "dispute_case.bpmn" else source.encode("utf-8")))
             for name, content in BUNDLE.items()]
    answer = api.client.post("/api/v1/process-definitions/validate", headers=api.headers("designer1"),
                             data={"files": [(io(c), n) for _, (n, c) in files]},
                             content_type="multipart/form-data").get_json()
    assert answer["valid"] is True
    assert any('"grid_office"' in w["message"] and w["element_id"] == "lane_intake" for w in answer["warnings"])


def io(content: bytes) -> Any:
    import io as _io

    return _io.BytesIO(content)


def test_a_township_supervisor_sees_only_the_incidents_of_cases_they_may_see(api: Api) -> None:
    from app.database import db
    from app.services.kernel import incidents

    in_hexi = api.register(category="neighbor")
    api.work("dispatch1", in_hexi["id"], "dispatch", {"handling_group": "property", "complexity": "simple"})
    with db.command() as conn:
        incidents.record(conn, kind="step", operation="complete", element="sign_for", error="ValueError: x",
                         case_id=in_hexi["id"])
    assert [i["case_id"] for i in api.get("supervisor1", "/escalations")["incidents"]] == [in_hexi["id"]]
    assert api.get("supervisor2", "/escalations")["incidents"] == []
