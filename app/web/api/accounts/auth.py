from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue

from app.errors import Bilingual, FieldError, ValidationFailed
from app.services.accounts import auth as auth_service
from app.web.api.blueprint import bp
from app.web.api.schemas import ref
from app.web.api.support import authenticated, doc, json_body, principal


@bp.post("/auth/login")
@doc("Log in and receive a bearer token", tag="auth", body="Login", public=True, answer=ref("LoggedIn"),
     responses={200: "Token and user", 401: "Wrong username or password",
                422: "username or password missing or not a text",
                429: "Too many failed logins for this username (Retry-After)"})
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
    response = Response(status=204)
    del response.headers["Content-Type"]  # no content, so no media type (not werkzeug's default text/html)
    return response


@bp.post("/auth/password")
@authenticated
@doc("Change my password (after a reset, the only call a login may make)", tag="auth", body="PasswordChange",
     responses={200: "Changed", 401: "No valid token", 422: "Current password wrong, or the new one too weak"})
def change_password() -> ResponseReturnValue:
    body = json_body()
    auth_service.change_password(principal(), body.get("old_password"), body.get("new_password"))
    return jsonify({"changed": True})
