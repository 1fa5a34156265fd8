"""What answers tell browsers about themselves: the Content-Security-Policy and its companions on pages
and API answers, and the attributes of the session and language cookies (over HTTP, HTTPS, and behind a
proxy that terminates TLS). The browser tests prove the pages work under the policy."""
from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
from lxml import etree

from app.config import PROJECT_ROOT, load_config
from tests.conftest import Api
from tests.ui.conftest import Pages

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # headers do not depend on it
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
TEMPLATES = sorted((PROJECT_ROOT / "app" / "web" / "ui" / "templates").rglob("*.html"))


def _cookie(response: Any, name: str) -> dict[str, str | bool]:
    """The attributes of the Set-Cookie for `name` ({"samesite": "Lax", "httponly": True, ...})."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            attributes: dict[str, str | bool] = {}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attributes[key.lower()] = value or True
            return attributes
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}")


def _assert_page_headers(response: Any) -> None:
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@SQLITE
def test_every_kind_of_page_carries_the_strict_policy(pages: Pages, api: Api) -> None:
    _assert_page_headers(pages.client.get("/login"))
    _assert_page_headers(pages.client.get("/inbox"))  # the redirect to the login page
    _assert_page_headers(pages.client.post("/login", data={"username": "x"}))  # 400: no CSRF token
    case = api.register(category="labor")
    for user, path, status in (("designer1", "/designer", 200), ("designer1", "/designer/dispute_case/1", 200),
                               ("designer1", "/designer/dispute_case/compare?from=1&to=1", 200),
                               ("designer1", "/no-such-page", 404), ("designer1", "/reports", 403),
                               ("supervisor1", f"/cases/{case['id']}", 200), ("supervisor1", "/supervision", 200),
                               ("supervisor1", "/reports?view=weekly", 200), ("dispatch1", "/inbox", 200),
                               ("intake1", "/cases/new", 200)):
        client = Pages(pages.app).login(user).client
        response = client.get(path)
        assert response.status_code == status, path
        _assert_page_headers(response)
        html = response.get_data(as_text=True)
        assert "<style" not in html and " style=" not in html, path  # the diagrams come without them


def test_templates_hold_no_inline_script_style_or_event_handler() -> None:
    """What the policy would refuse, refused at the source: scripts and styles come from files."""
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, template.name
        assert re.search(r"<style|\sstyle=", text) is None, template.name
        assert re.search(r"\son[a-z]+=", text) is None, template.name
        assert "javascript:" not in text, template.name


@SQLITE
def test_the_diagram_stylesheet_pages_link(pages: Pages) -> None:
    from app.diagram import STYLESHEET

    pages.login("designer1")
    assert 'href="/diagram.css"' in pages.get("/designer/dispute_case/1")
    response = pages.client.get("/diagram.css")
    assert response.mimetype == "text/css" and response.get_data(as_text=True) == STYLESHEET
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = pages.client.get("/diagram.css", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@SQLITE
def test_api_answers_allow_nothing(pages: Pages, api: Api) -> None:
    for response in (pages.client.get("/api/v1/openapi.json"), pages.client.get("/api/v1/no-such"),
                     pages.client.get("/api/v1/cases"),  # 401 problem+json
                     api.client.get("/api/v1/cases", headers=api.headers("admin1")),
                     pages.client.get("/ui-static/app.js"), pages.client.get("/ui-static/app.css")):
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@SQLITE
def test_a_diagram_svg_may_apply_its_own_stylesheet_and_nothing_else(api: Api) -> None:
    case = api.register(category="labor")
    for path, user in ((f"/api/v1/cases/{case['id']}/diagram.svg", "intake1"),
                       ("/api/v1/process-definitions/dispute_case/1/diagram.svg", "designer1")):
        response = api.client.get(path, headers=api.headers(user))
        assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff"
        style = etree.fromstring(response.data).find("{http://www.w3.org/2000/svg}style").text
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert response.headers["Content-Security-Policy"] == \
            f"default-src 'none'; style-src 'sha256-{digest}'; frame-ancestors 'none'"


@SQLITE
def test_cookies_are_httponly_and_samesite_lax_and_not_secure_over_http(pages: Pages) -> None:
    response = pages.client.get("/login")
    session = _cookie(response, "session")
    assert session.get("httponly") is True and session.get("samesite") == "Lax" and "secure" not in session
    response = pages.client.get("/lang/en")
    for name in ("session", "lang"):
        cookie = _cookie(response, name)
        assert cookie.get("httponly") is True and cookie.get("samesite") == "Lax" and "secure" not in cookie


@SQLITE
def test_cookies_are_secure_over_https(pages: Pages) -> None:
    response = pages.client.get("/login", base_url="https://localhost")
    assert _cookie(response, "session").get("secure") is True
    response = pages.client.post("/login", base_url="https://localhost",
                                 data={"username": "dispatch1", "password": "test-password-1",
                                       "csrf_token": pages.csrf()})
    assert response.status_code == 302
    session = _cookie(response, "session")
    assert session.get("secure") is True and session.get("httponly") is True and session.get("samesite") == "Lax"
    response = pages.client.get("/lang/en", base_url="https://localhost")
    assert _cookie(response, "lang").get("secure") is True and _cookie(response, "session").get("secure") is True


@SQLITE
def test_behind_a_tls_terminating_proxy_the_setting_makes_cookies_secure(pages: Pages,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCORD_SECURE_COOKIES", "true")
    assert load_config()["SECURE_COOKIES"] is True
    monkeypatch.delenv("CONCORD_SECURE_COOKIES")
    assert load_config()["SECURE_COOKIES"] is False
    pages.app.config["SECURE_COOKIES"] = True  # the request arrives as plain HTTP from the proxy
    response = pages.client.get("/lang/en")
    assert _cookie(response, "session").get("secure") is True and _cookie(response, "lang").get("secure") is True


@SQLITE
def test_only_the_workbench_lets_inline_styles_through_and_no_page_inline_scripts(pages: Pages) -> None:
    from app.web.security import PAGE_POLICY

    pages.login("designer1")
    assert pages.client.get("/designer").headers["Content-Security-Policy"] == PAGE_POLICY
    start = pages.post("/designer/drafts", {"process_key": "dispute_case"})
    editor = pages.client.get(start.headers["Location"]).headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in editor and "script-src 'self';" in editor
    assert editor.replace("style-src 'self' 'unsafe-inline'", "style-src 'self'") == PAGE_POLICY
