"""用户与机构管理: centres, groups, staff accounts and integration keys, for administrators; and every
person's own password change."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app.errors import ConcordError
from app.services.accounts import auth as auth_service
from app.services.accounts import keys as key_service
from app.services.accounts import organisation as organisation_service
from app.services.accounts import users as user_service
from app.services.kernel.directory import GROUP_KINDS
from app.services.kernel.principals import ROLES
from app.web.ui.blueprint import bp
from app.web.ui.i18n import explain
from app.web.ui.support import login_required, principal, roles_required

SECTIONS = ("centres", "groups", "users", "keys")


def _page(*, status: int = 200, error: str | None = None, section: str = "users", entered: dict[str, Any] | None = None,
          new_key: dict[str, Any] | None = None) -> ResponseReturnValue:
    me, q = principal(), request.args.get("q", "")
    return render_template(
        "accounts/admin.html", centres=organisation_service.list_centres(me),
        groups=organisation_service.list_groups(me), kinds=GROUP_KINDS,
        users=user_service.list_users(me, q=q, page=request.args.get("page", 1, type=int), per_page=50),
        keys=key_service.list_keys(me), roles=ROLES, q=q, error=error, section=section,
        entered=entered or {}, new_key=new_key), status


def _done(message: str, section: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("ui.admin", _anchor=section))


def _form(form: MultiDict[str, str]) -> dict[str, Any]:
    return {key: form.get(key) for key in form if key != "csrf_token"}


@bp.get("/admin")
@login_required
@roles_required("admin")
def admin() -> ResponseReturnValue:
    return _page()


@bp.post("/admin/centres")
@login_required
@roles_required("admin")
def admin_create_centre() -> ResponseReturnValue:
    body = {"key": request.form.get("key", "").strip(), "name": request.form.get("name", ""),
            "parent": request.form.get("parent") or None}
    try:
        centre = organisation_service.create_centre(principal(), body)
    except ConcordError as exc:
        return _page(status=exc.status, error=explain(exc), section="centres", entered=_form(request.form))
    return _done(gettext("Centre %(name)s added.", name=centre["name"]), "centres")


@bp.post("/admin/groups")
@login_required
@roles_required("admin")
def admin_create_group() -> ResponseReturnValue:
    body = {"key": request.form.get("key", "").strip(), "name": request.form.get("name", ""),
            "name_en": request.form.get("name_en") or None, "kind": request.form.get("kind"),
            "centre": request.form.get("centre") or None}
    try:
        group = organisation_service.create_group(principal(), body)
    except ConcordError as exc:
        return _page(status=exc.status, error=explain(exc), section="groups", entered=_form(request.form))
    return _done(gettext("Group %(name)s added.", name=group["name"]), "groups")


@bp.post("/admin/groups/<key>")
@login_required
@roles_required("admin")
def admin_update_group(key: str) -> ResponseReturnValue:
    try:
        if request.form.get("action") == "delete":
            organisation_service.delete_group(principal(), key)
            return _done(gettext("Group %(key)s removed.", key=key), "groups")
        group = organisation_service.update_group(principal(), key, {
            "name": request.form.get("name", ""), "name_en": request.form.get("name_en") or None,
            "kind": request.form.get("kind"), "centre": request.form.get("centre")})
    except ConcordError as exc:
        return _page(status=exc.status, error=explain(exc), section="groups")
    return _done(gettext("Group %(name)s saved.", name=group["name"]), "groups")


@bp.post("/admin/users")
@login_required
@roles_required("admin")
def admin_create_user() -> ResponseReturnValue:
    body = {"username": request.form.get("username", "").strip(), "display_name": request.form.get("display_name"),
            "password": request.form.get("password", ""), "roles": request.form.getlist("roles"),
            "groups": request.form.getlist("groups")}
    try:
        user = user_service.create_user(principal(), body)
    except ConcordError as exc:
        entered = {**_form(request.form), "roles": body["roles"], "groups": body["groups"], "password": ""}
        return _page(status=exc.status, error=explain(exc), section="users", entered=entered)
    return _done(gettext("Account %(username)s created.", username=user["username"]), "users")


@bp.post("/admin/users/<username>")
@login_required
@roles_required("admin")
def admin_update_user(username: str) -> ResponseReturnValue:
    try:
        if request.form.get("action") == "reset":
            user_service.reset_password(principal(), username, request.form.get("password", ""))
            return _done(gettext("The password of %(username)s was reset; it must be changed at the next login.",
                                 username=username), "users")
        body: dict[str, Any] = {"display_name": request.form.get("display_name"),
                                "roles": request.form.getlist("roles"), "groups": request.form.getlist("groups"),
                                "active": request.form.get("active") == "on"}
        user_service.update_user(principal(), username, body)
    except ConcordError as exc:
        return _page(status=exc.status, error=explain(exc), section="users")
    return _done(gettext("Account %(username)s saved.", username=username), "users")


@bp.post("/admin/keys")
@login_required
@roles_required("admin")
def admin_create_key() -> ResponseReturnValue:
    try:
        key = key_service.create_key(principal(), {"name": request.form.get("name"),
                                                   "source": request.form.get("source")})
    except ConcordError as exc:
        return _page(status=exc.status, error=explain(exc), section="keys", entered=_form(request.form))
    # Shown on this answer only, never stored in a cookie or a later page.
    return _page(status=201, section="keys", new_key=key)


@bp.post("/admin/keys/<int:key_id>/revoke")
@login_required
@roles_required("admin")
def admin_revoke_key(key_id: int) -> ResponseReturnValue:
    try:
        key_service.revoke_key(principal(), key_id)
    except ConcordError as exc:
        return _page(status=exc.status, error=explain(exc), section="keys")
    return _done(gettext("The key is revoked."), "keys")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    error, status = None, 200
    if request.method == "POST":
        try:
            auth_service.change_password(principal(), request.form.get("old_password"),
                                         request.form.get("new_password"))
        except ConcordError as exc:
            error, status = explain(exc), exc.status
        else:
            flash(gettext("Your password is changed."), "success")
            return redirect(url_for("ui.home"))
    return render_template("accounts/password.html", error=error,
                           forced=principal().must_change_password), status
