"""Page tests: a logged-in browser-like client with the session's CSRF token at hand."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import PASSWORD


class Pages:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()

    def csrf(self) -> str:
        with self.client.session_transaction() as session:
            if "csrf_token" not in session:
                session["csrf_token"] = "t" * 43
            return str(session["csrf_token"])

    def login(self, user: str) -> Pages:
        response = self.post("/login", {"username": user, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return self

    def get(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, (response.status_code, response.headers.get("Location"))
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf(), **data}, **kwargs)


@pytest.fixture
def pages(app: Any) -> Pages:
    return Pages(app)


def field_error(html: str, name: str) -> str | None:
    match = re.search(r'data-error-for="' + re.escape(name) + r'">([^<]*)<', html)
    return match.group(1) if match else None
