"""The administration page (用户与机构管理) and a person's own password, through the pages."""
from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD, Api
from tests.ui.conftest import Pages


def test_only_administrators_open_the_admin_page_and_it_shows_names_not_keys(pages: Pages) -> None:
    html = pages.login("admin1").get("/admin")
    assert "用户与机构管理" in html and "示范县综治中心" in html and "城关镇综治中心" in html
    assert "人民调解室" in html and "督办人员" in html
    other = Pages(pages.app).login("mediator1")
    assert other.client.get("/admin").status_code == 403
    assert "用户与机构管理" not in other.get("/inbox")


def test_a_refused_group_keeps_what_was_typed_and_says_why_in_chinese(pages: Pages) -> None:
    pages.login("admin1")
    response = pages.post("/admin/groups", {"key": "mediation", "name": "又一个调解室", "kind": "mediation",
                                            "centre": "county"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "又一个调解室" in html and "Traceback" not in html


def test_a_user_whose_password_was_reset_must_change_it_before_anything_else(pages: Pages, api: Api) -> None:
    api.post("admin1", "/users/mediator1/reset-password", json={"password": "temporary-pass-1"})
    response = pages.post("/login", {"username": "mediator1", "password": "temporary-pass-1"})
    assert response.status_code == 302
    inbox = pages.client.get("/inbox")
    assert inbox.status_code == 302 and inbox.headers["Location"].endswith("/account/password")
    assert "管理员已重置您的密码" in pages.get("/account/password")
    weak = pages.post("/account/password", {"old_password": "temporary-pass-1", "new_password": "short"})
    assert weak.status_code == 422 and "至少 10 个字符" in weak.get_data(as_text=True)
    done = pages.post("/account/password", {"old_password": "temporary-pass-1", "new_password": "mediator-pass-2"})
    assert done.status_code == 302
    assert pages.client.get("/inbox").status_code == 200


def test_the_login_page_says_when_a_username_is_locked(app: Any) -> None:
    pages = Pages(app)
    for _ in range(5):
        assert pages.post("/login", {"username": "intake1", "password": "wrong"}).status_code == 401
    locked = pages.post("/login", {"username": "intake1", "password": PASSWORD})
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_data(as_text=True)


def test_an_integration_key_is_shown_once_on_the_page(pages: Pages) -> None:
    pages.login("admin1")
    made = pages.post("/admin/keys", {"name": "110对接", "source": "police_110"})
    html = made.get_data(as_text=True)
    assert made.status_code == 201 and "ck_" in html and "只显示这一次" in html
    assert "ck_" not in pages.get("/admin")
