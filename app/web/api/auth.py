from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from app.errors import ValidationFailed
from app.services import auth as auth_service
from app.web.api import bp
from app.web.api.support import doc, json_body


@bp.post("/auth/login")
@doc("Log in and receive a bearer token", tag="auth", body="Login", public=True,
     responses={200: "Token and user", 401: "Wrong username or password"})
def login() -> ResponseReturnValue:
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ValidationFailed("username and password are required strings")
    token, user = auth_service.login(username, password)
    return jsonify({"token": token, "user": user.as_dict()})
