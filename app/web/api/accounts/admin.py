"""Administration: centres, groups, users and integration keys (role admin; reading the tree and the
groups is open to supervisors and designers too)."""
from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.services.accounts import keys as key_service
from app.services.accounts import organisation as organisation_service
from app.services.accounts import users as user_service
from app.web.api.blueprint import bp
from app.web.api.schemas import array_of, link, page_of, ref
from app.web.api.support import authenticated, created, doc, int_arg, json_body, no_content, principal

_ADMIN = {403: "Not an administrator"}


def _centre_links(pointer: str) -> dict[str, dict[str, object]]:
    return {"UpdateCentre": link("update_centre", key=f"$response.body#{pointer}")}


def _group_links(pointer: str) -> dict[str, dict[str, object]]:
    key = f"$response.body#{pointer}"
    return {"UpdateGroup": link("update_group", key=key), "DeleteGroup": link("delete_group", key=key)}


def _user_links(pointer: str) -> dict[str, dict[str, object]]:
    username = f"$response.body#{pointer}"
    return {"GetUser": link("get_user", username=username), "UpdateUser": link("update_user", username=username),
            "ResetPassword": link("reset_password", username=username)}


@bp.get("/centres")
@authenticated
@doc("The centres (综治中心), city → county → township, each with its parent", tag="administration",
     answer=array_of("Centre"), responses={200: "Every centre, by key (not paged: there are few)",
                                           403: "Not an administrator or supervisor"})
def list_centres() -> ResponseReturnValue:
    return jsonify(organisation_service.list_centres(principal()))


@bp.post("/centres")
@authenticated
@doc("Add a centre under a parent (or a root)", tag="administration", body="NewCentre", answer=ref("Centre"),
     links={201: _centre_links("/key")},
     responses={201: "Created: the centre", **_ADMIN, 409: "A centre with this key exists",
                422: "Malformed key, name missing or too long, unknown parent"})
def create_centre() -> ResponseReturnValue:
    return created(organisation_service.create_centre(principal(), json_body()))


@bp.patch("/centres/<key>")
@authenticated
@doc("Rename a centre or move it under another parent", tag="administration", body="CentreChange",
     answer=ref("Centre"), responses={200: "Changed: the centre", **_ADMIN, 404: "Unknown centre",
                                      422: "Name blank or too long; parent unknown, the centre itself or below it"})
def update_centre(key: str) -> ResponseReturnValue:
    return jsonify(organisation_service.update_centre(principal(), key, json_body()))


@bp.get("/groups")
@authenticated
@doc("The groups BPMN lanes and candidateGroups name, with their names, kinds and centres",
     tag="administration", answer=array_of("Group"),
     responses={200: "Every group, by key (not paged: there are few)",
                403: "Not an administrator, supervisor or designer"})
def list_groups() -> ResponseReturnValue:
    return jsonify(organisation_service.list_groups(principal()))


@bp.post("/groups")
@authenticated
@doc("Add a group (a window, a mediation room, a department) to a centre", tag="administration",
     body="NewGroup", answer=ref("Group"), links={201: _group_links("/key")},
     responses={201: "Created: the group", **_ADMIN, 409: "A group with this key exists",
                422: "Malformed key, name missing or too long, unknown kind or centre, no centre named while "
                     "the tree has several roots"})
def create_group() -> ResponseReturnValue:
    return created(organisation_service.create_group(principal(), json_body()))


@bp.patch("/groups/<key>")
@authenticated
@doc("Rename a group, change its kind or move it to another centre", tag="administration", body="GroupChange",
     answer=ref("Group"), responses={200: "Changed: the group", **_ADMIN, 404: "Unknown group",
                                     422: "A field that cannot be changed; name blank or too long; unknown kind "
                                          "or centre"})
def update_group(key: str) -> ResponseReturnValue:
    return jsonify(organisation_service.update_group(principal(), key, json_body()))


@bp.delete("/groups/<key>")
@authenticated
@doc("Remove a group without open tasks (its members leave it)", tag="administration",
     responses={204: "Removed", **_ADMIN, 404: "Unknown group", 409: "The group still has open tasks"})
def delete_group(key: str) -> ResponseReturnValue:
    organisation_service.delete_group(principal(), key)
    return no_content()


@bp.get("/users")
@authenticated
@doc("Staff accounts, searchable by username or name", tag="administration", query=("q", "page", "per_page"),
     answer=page_of("Account"), links={200: {"GetUser": link("get_user", username="$response.body#/items/0/username")}},
     responses={200: "A page of accounts, by username", **_ADMIN, 422: "page or per_page not a number"})
def list_users() -> ResponseReturnValue:
    return jsonify(user_service.list_users(principal(), q=request.args.get("q"), page=int_arg("page", 1),
                                           per_page=int_arg("per_page", 50)))


@bp.post("/users")
@authenticated
@doc("Create an account with roles and groups", tag="administration", body="NewUser", answer=ref("Account"),
     links={201: _user_links("/username")},
     responses={201: "Created: the account", **_ADMIN, 409: "The username is taken",
                422: "Malformed username, name missing or too long, weak password, unknown roles or groups"})
def create_user() -> ResponseReturnValue:
    return created(user_service.create_user(principal(), json_body()))


@bp.get("/users/<username>")
@authenticated
@doc("One account", tag="administration", answer=ref("Account"),
     responses={200: "The account", **_ADMIN, 404: "Unknown user"})
def get_user(username: str) -> ResponseReturnValue:
    return jsonify(user_service.get_user(principal(), username))


@bp.patch("/users/<username>")
@authenticated
@doc("Change name, roles, groups; deactivate (ends logins, hands claimed tasks back)", tag="administration",
     body="UserChange", answer=ref("Account"),
     responses={200: "Changed: the account", **_ADMIN, 404: "Unknown user",
                409: "The last active administrator would be deactivated or lose the admin role",
                422: "A field that cannot be changed here; name blank or too long; unknown roles or groups"})
def update_user(username: str) -> ResponseReturnValue:
    return jsonify(user_service.update_user(principal(), username, json_body()))


@bp.post("/users/<username>/reset-password")
@authenticated
@doc("Set a new password the user must change at the next login (their logins end)", tag="administration",
     body="Password", answer=ref("Account"),
     responses={200: "Reset: the account", **_ADMIN, 404: "Unknown user",
                422: "Password too short or the username"})
def reset_password(username: str) -> ResponseReturnValue:
    return jsonify(user_service.reset_password(principal(), username, json_body().get("password")))


@bp.get("/integration-keys")
@authenticated
@doc("Integration keys of the feeds (never the keys themselves), revoked ones too", tag="administration",
     answer=array_of("IntegrationKey"), responses={200: "Every key, oldest first", **_ADMIN})
def list_integration_keys() -> ResponseReturnValue:
    return jsonify(key_service.list_keys(principal()))


@bp.post("/integration-keys")
@authenticated
@doc("Make a key for a feed; the answer shows it this once", tag="administration", body="NewIntegrationKey",
     answer=ref("IssuedKey"),
     links={201: {"RevokeKey": link("revoke_integration_key", key_id="$response.body#/id")}},
     responses={201: "Created: the key is in the answer", **_ADMIN, 422: "name or source missing or too long"})
def create_integration_key() -> ResponseReturnValue:
    return created(key_service.create_key(principal(), json_body()))


@bp.delete("/integration-keys/<int:key_id>")
@authenticated
@doc("Revoke a key: it answers 401 from now on", tag="administration",
     responses={204: "Revoked", **_ADMIN, 404: "Unknown key, or revoked already"})
def revoke_integration_key(key_id: int) -> ResponseReturnValue:
    key_service.revoke_key(principal(), key_id)
    return no_content()
