"""Administration: centres, groups, users and integration keys (role admin; reading the tree and the
groups is open to supervisors and designers too)."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from app.services.accounts import keys as key_service
from app.services.accounts import organisation as organisation_service
from app.services.accounts import users as user_service
from app.web.api.blueprint import bp
from app.web.api.support import authenticated, created, doc, int_arg, json_body, principal

_WRITE = {403: "Not an administrator", 404: "Unknown", 409: "Conflicts with what exists",
          422: "Invalid fields"}


@bp.get("/centres")
@authenticated
@doc("The centres (综治中心), city → county → township, each with its parent", tag="administration")
def list_centres() -> ResponseReturnValue:
    return jsonify(organisation_service.list_centres(principal()))


@bp.post("/centres")
@authenticated
@doc("Add a centre under a parent (or a root)", tag="administration", body="Centre",
     responses={201: "Created", **_WRITE})
def create_centre() -> ResponseReturnValue:
    return created(organisation_service.create_centre(principal(), json_body()))


@bp.patch("/centres/<key>")
@authenticated
@doc("Rename a centre or move it under another parent", tag="administration", body="Centre",
     responses={200: "Changed", **_WRITE})
def update_centre(key: str) -> ResponseReturnValue:
    return jsonify(organisation_service.update_centre(principal(), key, json_body()))


@bp.get("/groups")
@authenticated
@doc("The groups BPMN lanes and candidateGroups name, with their names, kinds and centres",
     tag="administration")
def list_groups() -> ResponseReturnValue:
    return jsonify(organisation_service.list_groups(principal()))


@bp.post("/groups")
@authenticated
@doc("Add a group (a window, a mediation room, a department) to a centre", tag="administration",
     body="Group", responses={201: "Created", **_WRITE})
def create_group() -> ResponseReturnValue:
    return created(organisation_service.create_group(principal(), json_body()))


@bp.patch("/groups/<key>")
@authenticated
@doc("Rename a group, change its kind or move it to another centre", tag="administration", body="Group",
     responses={200: "Changed", **_WRITE})
def update_group(key: str) -> ResponseReturnValue:
    return jsonify(organisation_service.update_group(principal(), key, json_body()))


@bp.delete("/groups/<key>")
@authenticated
@doc("Remove a group without open tasks (its members leave it)", tag="administration",
     responses={204: "Removed", **_WRITE})
def delete_group(key: str) -> ResponseReturnValue:
    organisation_service.delete_group(principal(), key)
    return Response(status=204)


@bp.get("/users")
@authenticated
@doc("Staff accounts, searchable by username or name", tag="administration", query=("q", "page", "per_page"))
def list_users() -> ResponseReturnValue:
    return jsonify(user_service.list_users(principal(), q=request.args.get("q"), page=int_arg("page", 1),
                                           per_page=int_arg("per_page", 50)))


@bp.post("/users")
@authenticated
@doc("Create an account with roles and groups", tag="administration", body="NewUser",
     responses={201: "Created", **_WRITE})
def create_user() -> ResponseReturnValue:
    return created(user_service.create_user(principal(), json_body()))


@bp.get("/users/<username>")
@authenticated
@doc("One account", tag="administration", responses={200: "The account", 403: "Not an administrator",
                                                     404: "Unknown user"})
def get_user(username: str) -> ResponseReturnValue:
    return jsonify(user_service.get_user(principal(), username))


@bp.patch("/users/<username>")
@authenticated
@doc("Change name, roles, groups; deactivate (ends logins, hands claimed tasks back)", tag="administration",
     body="UserChange", responses={200: "Changed", **_WRITE})
def update_user(username: str) -> ResponseReturnValue:
    return jsonify(user_service.update_user(principal(), username, json_body()))


@bp.post("/users/<username>/reset-password")
@authenticated
@doc("Set a new password the user must change at the next login", tag="administration", body="Password",
     responses={200: "Reset", **_WRITE})
def reset_password(username: str) -> ResponseReturnValue:
    return jsonify(user_service.reset_password(principal(), username, json_body().get("password")))


@bp.get("/integration-keys")
@authenticated
@doc("Integration keys of the feeds (never the keys themselves)", tag="administration")
def list_integration_keys() -> ResponseReturnValue:
    return jsonify(key_service.list_keys(principal()))


@bp.post("/integration-keys")
@authenticated
@doc("Make a key for a feed; the answer shows it this once", tag="administration", body="IntegrationKey",
     responses={201: "Created: the key is in the answer", **_WRITE})
def create_integration_key() -> ResponseReturnValue:
    return created(key_service.create_key(principal(), json_body()))


@bp.delete("/integration-keys/<int:key_id>")
@authenticated
@doc("Revoke a key: it answers 401 from now on", tag="administration", responses={204: "Revoked", **_WRITE})
def revoke_integration_key(key_id: int) -> ResponseReturnValue:
    key_service.revoke_key(principal(), key_id)
    return Response(status=204)
