"""`concord users|groups|centres ...`: administering the centre from the command line (services only)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.services.accounts import organisation, staff_import, users
from app.services.kernel.principals import Principal

OPERATOR = Principal("cli", "命令行操作员", frozenset({"admin"}), frozenset())


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def cmd_users_add(args: argparse.Namespace, config: dict[str, Any]) -> int:
    password = args.password or _ask_password()
    user = users.create_user(OPERATOR, {"username": args.username, "display_name": args.name, "password": password,
                                        "roles": _list(args.roles), "groups": _list(args.groups)})
    print(f"created {user['username']} ({user['display_name']}): roles {', '.join(user['roles']) or '-'}, "
          f"groups {', '.join(user['groups']) or '-'}")
    return 0


def _ask_password() -> str:
    import getpass

    return getpass.getpass("password (at least 10 characters): ")


def cmd_users_list(args: argparse.Namespace, config: dict[str, Any]) -> int:
    page, shown = 1, 0
    while True:
        result = users.list_users(OPERATOR, q=args.search, page=page, per_page=200)
        for user in result["items"]:
            state = "" if user["active"] else "  (disabled)"
            print(f"{user['username']:<20} {user['display_name']:<16} roles={','.join(user['roles'])} "
                  f"groups={','.join(user['groups'])}{state}")
        shown += len(result["items"])
        if shown >= result["total"] or not result["items"]:
            return 0
        page += 1


def cmd_users_disable(args: argparse.Namespace, config: dict[str, Any]) -> int:
    users.update_user(OPERATOR, args.username, {"active": False})
    print(f"{args.username} is disabled: their logins ended and their claimed tasks went back to their groups")
    return 0


def cmd_users_import(args: argparse.Namespace, config: dict[str, Any]) -> int:
    report = staff_import.run(OPERATOR, Path(args.file))
    print(f"{report.rows} rows: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
          f"{report.invalid} invalid")
    if report.password_report:
        print(f"one-time passwords of the new accounts (changed at first login): {report.password_report}")
    if report.error_report:
        print(f"row errors: {report.error_report}", file=sys.stderr)
    return 1 if report.invalid else 0


def cmd_groups_add(args: argparse.Namespace, config: dict[str, Any]) -> int:
    group = organisation.create_group(OPERATOR, {"key": args.key, "name": args.name, "kind": args.kind,
                                                 "centre": args.centre, "name_en": args.name_en})
    print(f"created group {group['key']} ({group['name']}, {group['kind']}) in centre {group['centre']}")
    return 0


def cmd_groups_list(args: argparse.Namespace, config: dict[str, Any]) -> int:
    for group in organisation.list_groups(OPERATOR):
        print(f"{group['key']:<24} {group['name']:<16} {group['kind']:<12} centre={group['centre']}")
    return 0


def cmd_centres_add(args: argparse.Namespace, config: dict[str, Any]) -> int:
    centre = organisation.create_centre(OPERATOR, {"key": args.key, "name": args.name, "parent": args.parent})
    print(f"created centre {centre['key']} ({centre['name']})" + (f" under {centre['parent']}" if centre["parent"]
                                                                  else ""))
    return 0


def cmd_centres_list(args: argparse.Namespace, config: dict[str, Any]) -> int:
    centres = organisation.list_centres(OPERATOR)

    def show(parent: str | None, depth: int) -> None:
        for centre in (c for c in centres if c["parent"] == parent):
            print(f"{'  ' * depth}{centre['key']}  {centre['name']}")
            show(centre["key"], depth + 1)
    show(None, 0)
    return 0


def add_commands(sub: Any) -> None:
    user_parser = sub.add_parser("users", help="staff accounts").add_subparsers(dest="action", required=True)
    p = user_parser.add_parser("add", help="create an account")
    p.add_argument("username")
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--roles", default="", help="comma-separated: intake, handler, supervisor, designer, admin")
    p.add_argument("--groups", default="", help="comma-separated group keys")
    p.add_argument("--password", help="at least 10 characters (asked for when absent)")
    p.set_defaults(run=cmd_users_add)
    p = user_parser.add_parser("list", help="list accounts")
    p.add_argument("--search", help="part of a username or name")
    p.set_defaults(run=cmd_users_list)
    p = user_parser.add_parser("disable", help="deactivate an account")
    p.add_argument("username")
    p.set_defaults(run=cmd_users_disable)
    p = user_parser.add_parser("import", help="create or update accounts from a CSV of staff")
    p.add_argument("file")
    p.set_defaults(run=cmd_users_import)
    group_parser = sub.add_parser("groups", help="groups of officers").add_subparsers(dest="action", required=True)
    p = group_parser.add_parser("add", help="create a group")
    p.add_argument("key")
    p.add_argument("--name", required=True, help="Chinese name")
    p.add_argument("--name-en", dest="name_en", help="English name")
    p.add_argument("--kind", required=True, help="window, dispatch, mediation, department, supervision, external")
    p.add_argument("--centre", help="centre key (default: the only root centre)")
    p.set_defaults(run=cmd_groups_add)
    group_parser.add_parser("list", help="list groups").set_defaults(run=cmd_groups_list)
    centre_parser = sub.add_parser("centres", help="centres (综治中心)").add_subparsers(dest="action", required=True)
    p = centre_parser.add_parser("add", help="create a centre")
    p.add_argument("key")
    p.add_argument("--name", required=True)
    p.add_argument("--parent", help="the parent centre's key (none: a root)")
    p.set_defaults(run=cmd_centres_add)
    centre_parser.add_parser("list", help="the centre tree").set_defaults(run=cmd_centres_list)
