"""Sessions, CSRF, the current user, page errors and the small formatting helpers templates share."""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from functools import wraps
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, format_timedelta, gettext
from werkzeug.exceptions import HTTPException

from app import clock
from app.database import db
from app.errors import Bilingual, ConcordError, DatabaseUnavailable, Unauthenticated
from app.forms import labels
from app.services.accounts import auth as auth_service
from app.services.kernel import calendars, notifications, present
from app.services.kernel.principals import Principal
from app.web import problems
from app.web.ui.i18n import (
    case_type_label,
    case_types_for_filter,
    choice_label,
    current_language,
    element_label,
    field_choices,
    group_label,
    incident_label,
    kind_label,
    localise,
    procedure_label,
    role_label,
)

F = TypeVar("F", bound=Callable[..., Any])
CSRF_FIELD = "csrf_token"
LEVEL_CLASSES = {0: "on-time", 1: "warning", 2: "overdue", 3: "listed"}


def principal() -> Principal:
    return g.principal


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would let a link send users anywhere after login."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return None
    return target


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = session.get("token")
        try:
            if not token:
                raise Unauthenticated("not logged in")
            g.principal = auth_service.principal_from_token(token)
            if g.principal.must_change_password and request.endpoint not in ("ui.change_password", "ui.logout"):
                # After an administrator's reset the login may do nothing else (as on the API).
                return redirect(url_for("ui.change_password"))
        except Unauthenticated:
            expired = bool(token)
            session.pop("token", None)
            if expired:
                flash(gettext("Your session has expired; please log in again."), "warning")
            target = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
            return redirect(url_for("ui.login", next=_safe_next(_path_of(target))))
        # A connection lost before the request changed anything: once more (app.database).
        return db.retrying(lambda: view(*args, **kwargs))
    return wrapper  # type: ignore[return-value]


def _path_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def roles_required(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal().require_role(*roles)
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def _check_csrf() -> None:
    if request.method != "POST" or request.blueprint != "ui":
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="csrf")


def next_target(default: str) -> str:
    return _safe_next(request.values.get("next")) or default


# Formatting ------------------------------------------------------------------------------

def _parse(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def when(value: str | datetime | None) -> str:
    moment = _parse(value)
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else "—"


def due(value: str | datetime | None) -> str:
    """A due instant as the centre counts it: a day limit ends at 24:00 of its last day, so midnight is
    shown as "2026-12-01 24:00", never as the next day's 00:00."""
    return present.due_text(value) or "—"


def working_span(seconds: float) -> str:
    """Working time in working days (of 24 hours, as day limits count them) and hours: "1个工作日16小时"."""
    minutes = int(seconds // 60)
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    english = current_language() == "en"
    parts = []
    if days:
        parts.append(f"{days} working day{'s' if days > 1 else ''}" if english else f"{days}个工作日")
    if hours:
        parts.append(f"{hours} h" if english else f"{hours}小时")
    if not days and (minutes or not hours):
        parts.append(f"{minutes} min" if english else f"{minutes}分钟")
    return " ".join(parts) if english else "".join(parts)


def time_left(value: str | datetime | None) -> str:
    """"剩余 1个工作日16小时" / "已超期 3小时": working time only (weekends and holidays do not count, as they
    do not count for the limit), in the current language."""
    moment = _parse(value)
    if moment is None:
        return gettext("no time limit")
    now = clock.now()
    if moment >= now:
        return gettext("%(span)s left", span=working_span(calendars.working_seconds(now, moment)))
    return gettext("overdue by %(span)s", span=working_span(calendars.working_seconds(moment, now)))


def since(start: str | datetime | None, end: str | datetime | None = None) -> str:
    """How long from `start` until `end` (a closed case's closing), or until now."""
    moment = _parse(start)
    if moment is None:
        return "—"
    return format_timedelta((_parse(end) or clock.now()) - moment, granularity="minute", threshold=1.0)


def money(value: Any) -> str:
    return "—" if value is None else labels.money(value)


def level_class(level: int | None) -> str:
    return LEVEL_CLASSES.get(level or 0, "on-time")


# Errors ----------------------------------------------------------------------------------

def error_page(status: int, message: str, headers: dict[str, str] | None = None) -> ResponseReturnValue:
    return render_template("error.html", status=status, message=message), status, headers or {}


def on_domain_error(exc: ConcordError) -> ResponseReturnValue:
    """Errors raised by services under a page: a clear page, never a problem+json."""
    if isinstance(exc, Unauthenticated):
        session.pop("token", None)
        return redirect(url_for("ui.login", next=_safe_next(_path_of(request.full_path))))
    if isinstance(exc, DatabaseUnavailable):
        return error_page(exc.status, localise(exc.detail), {"Retry-After": problems.retry_after()})
    if isinstance(exc.detail, Bilingual) or current_language() == "en":
        return error_page(exc.status, localise(exc.detail))
    # A service's English-only detail ("case 9999 does not exist") is no message for a Chinese page.
    return error_page(exc.status, gettext(_PLAIN.get(exc.status, "The request could not be carried out.")))


_PLAIN = {403: "You are not allowed to do this.", 404: "There is no such record, or you may not see it.",
          409: "This was changed meanwhile; reload the page and try again.",
          413: "The upload is too large.", 422: "Some of what was entered is not valid.",
          429: "Too many attempts; please wait a while and try again."}


def _on_http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    if request.path.startswith("/api/"):
        return problems.from_http(exc)
    if code == 400 and exc.description == "csrf":
        return error_page(400, gettext("The form has expired or was not sent from this site. Reload and try again."))
    page = error_page(code, {403: gettext("You are not allowed to see this page."),
                             404: gettext("There is no such page."),
                             413: gettext("The upload is too large.")}.get(code, exc.description or exc.name))
    return problems.with_allow(exc, current_app.make_response(page))


def init_app(app: Flask) -> None:
    app.before_request(_check_csrf)
    app.context_processor(_unread)
    app.jinja_env.globals.update(csrf_token=csrf_token, when=when, due=due, time_left=time_left, since=since,
                                 money=money,
                                 level_class=level_class, localise=localise, current_language=current_language,
                                 group_label=group_label, procedure_label=procedure_label, role_label=role_label,
                                 case_type_label=case_type_label, choice_label=choice_label,
                                 field_choices=field_choices, case_types_for_filter=case_types_for_filter,
                                 kind_label=kind_label, incident_label=incident_label, element_label=element_label)
    app.jinja_env.filters.update(group_label=group_label, role_label=role_label)
    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, _on_http_error)
    app.register_error_handler(Exception, _on_unexpected)


def _unread() -> dict[str, Any]:
    """The navigation's unread badge, on every page of a logged-in user."""
    who = g.get("principal")
    try:
        return {"unread_notifications": notifications.unread_count(who) if who is not None else 0}
    except ConcordError:  # the database is away: the page (an error page, most likely) shows without it
        return {"unread_notifications": 0}


def _on_unexpected(exc: Exception) -> ResponseReturnValue:
    """A bug under a page: logged with its trace, the user gets a readable page (the API a problem)."""
    if isinstance(exc, HTTPException):
        return _on_http_error(exc)
    if request.path.startswith("/api/"):
        return problems.unexpected(exc)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_page(500, gettext("Something went wrong on our side; it has been logged. Please try again."))
