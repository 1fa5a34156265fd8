from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from app.errors import Bilingual, FieldError, ValidationFailed
from app.services.accounts import auth as auth_service
from app.web.api.blueprint import bp
from app.web.api.schemas import ref
from app.web.api.support import authenticated, doc, json_body, no_content, principal


@bp.post("/auth/login")
@doc("Log in and receive a bearer token", tag="auth", body="Login", public=True, answer=ref("LoggedIn"),
     responses={200: "Token and user", 401: "Wrong username or password",
                422: "username or password missing or not a text",
                429: "Too many failed logins for this username within the window (even with the right password); "
                     "Retry-After says when logins open again"},
     headers={429: {"Retry-After": {"required": True, "description": "seconds until logins of this username "
                                                                     "open again",
                                    "schema": {"type": "integer", "minimum": 1}}}})
def login() -> ResponseReturnValue:
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ValidationFailed("username and password are required strings", [
            FieldError(name, Bilingual("必填", "required"))
            for name, value in (("username", username), ("password", password)) if not isinstance(value, str)])
    token, user = auth_service.login(username, password)
    return jsonify({"token": token, "user": user.as_dict(), "must_change_password": user.must_change_password})


@bp.post("/auth/logout")
@authenticated
@doc("Log out: the token is refused from now on", tag="auth", responses={204: "Logged out", 401: "No valid token"})
def logout() -> ResponseReturnValue:
    auth_service.logout(g.token)
    return no_content()


@bp.post("/auth/password")
@authenticated
@doc("Change my password (after a reset, the only call a login may make)", tag="auth", body="PasswordChange",
     answer=ref("PasswordChanged"),
     responses={200: "Changed", 401: "No valid token",
                422: "Current password wrong (or not a person's login), the new one too short, the username or "
                     "the old one"})
def change_password() -> ResponseReturnValue:
    body = json_body()
    auth_service.change_password(principal(), body.get("old_password"), body.get("new_password"))
    return jsonify({"changed": True})
