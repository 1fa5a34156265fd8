"""Log in, log out, the language switch and the landing page of each kind of user."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.errors import TooManyRequests, Unauthenticated
from app.services.accounts import auth as auth_service
from app.web.security import secure_cookies
from app.web.ui.blueprint import bp
from app.web.ui.i18n import LANGUAGES
from app.web.ui.support import _safe_next, login_required, next_target, principal


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error, status = None, 200
    username = request.form.get("username", "")
    if request.method == "POST":
        try:
            token, user = auth_service.login(username, request.form.get("password", ""))
        except Unauthenticated:
            error, status = gettext("Wrong username or password."), 401
        except TooManyRequests as exc:
            minutes = max(1, round(exc.retry_after / 60))
            error = gettext("Too many failed logins for this username: try again in %(minutes)s minutes.",
                            minutes=minutes)
            status = 429
        else:
            language = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) for the new user
            session.update(token=token, lang=language) if language else session.update(token=token)
            return redirect(next_target(url_for("ui.home")))
    return render_template("accounts/login.html", error=error, username=username,
                           next=_safe_next(request.values.get("next"))), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    language = session.get("lang")
    if session.get("token"):
        auth_service.logout(session["token"])  # a copy of this cookie must not stay logged in
    session.clear()
    if language:
        session["lang"] = language
    flash(gettext("You have logged out."), "info")
    return redirect(url_for("ui.login"))


@bp.get("/lang/<language>")
def switch_language(language: str) -> ResponseReturnValue:
    if language not in LANGUAGES:
        language = "zh"
    session["lang"] = language
    response = make_response(redirect(_safe_next(request.args.get("next")) or url_for("ui.home")))
    response.set_cookie("lang", language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=secure_cookies())
    return response


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    me = principal()
    if me.has_role("designer") and not me.groups:
        return redirect(url_for("ui.designer"))
    if me.has_role("supervisor"):
        return redirect(url_for("ui.board"))
    return redirect(url_for("ui.inbox"))
