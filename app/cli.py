"""The `concord` command: what an operator needs without the web UI. Calls services only."""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from app import create_app
from app.errors import ConcordError, ProcessInvalid
from app.services import definitions, demo, schema
from app.services.auth import Principal

OPERATOR = Principal("cli", "命令行操作员", frozenset({"admin"}), frozenset())


def _read_files(paths: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        members = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for member in members:
            if member.suffix in (".bpmn", ".dmn", ".json"):
                files[member.name] = member.read_bytes()
    return files


def _print_problems(problems: list[Any]) -> None:
    for p in problems:
        where = ":".join(str(x) for x in (p.file, p.line) if x)
        element = f" [{p.element_id}]" if p.element_id else ""
        print(f"  {where or '-'}{element}: {p.message}", file=sys.stderr)


def cmd_init_db(args: argparse.Namespace, config: dict[str, Any]) -> int:
    schema.upgrade(config["DATABASE_URL"])
    print(f"database ready: {config['DATABASE_URL']}")
    return 0


def cmd_validate(args: argparse.Namespace, config: dict[str, Any]) -> int:
    report = definitions.validate(OPERATOR, _read_files(args.files))
    if report.valid:
        print("valid: " + ", ".join(p.key for p in report.processes))
        return 0
    print("invalid:", file=sys.stderr)
    _print_problems(report.errors)
    return 1


def cmd_deploy(args: argparse.Namespace, config: dict[str, Any]) -> int:
    try:
        deployed, is_new = definitions.deploy(OPERATOR, _read_files(args.files))
    except ProcessInvalid as exc:
        print("not deployed; the files have problems:", file=sys.stderr)
        _print_problems(exc.problems)
        return 1
    verb = "deployed" if is_new else "unchanged, already deployed as"
    print(f"{verb}: " + ", ".join(f"{d['key']} v{d['version']}" for d in deployed))
    return 0


def cmd_demo_seed(args: argparse.Namespace, config: dict[str, Any]) -> int:
    password = args.password or config.get("DEMO_PASSWORD")
    if not password and demo.demo_users_exist():
        print("demo users exist already; their passwords are unchanged (pass --password to reset)")
    else:
        if not password:
            password = secrets.token_urlsafe(9)
            print(f"demo password (shown once): {password}")
        names = demo.seed_users(password)
        print("demo users: " + ", ".join(names))
    seeded = demo.seed_cases()
    if seeded:
        print(f"demo cases registered: {seeded}")
    return 0


def cmd_serve(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from werkzeug.serving import run_simple

    if not config.get("SECRET_KEY_FROM_ENV"):
        print("warning: CONCORD_SECRET_KEY is not set; login tokens will not survive a restart", file=sys.stderr)
    host, port = args.host or config["HOST"], args.port or config["PORT"]
    print(f"Concord serving on http://{host}:{port}/ (API under /api/v1)")
    run_simple(host, port, create_app(), threaded=True, use_reloader=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concord", description="Concord 综治中心矛盾纠纷闭环流转平台")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create or upgrade the database schema").set_defaults(run=cmd_init_db)
    p = sub.add_parser("validate", help="validate BPMN/DMN/form files (or folders)")
    p.add_argument("files", nargs="+")
    p.set_defaults(run=cmd_validate)
    p = sub.add_parser("deploy", help="deploy BPMN/DMN/form files (or folders) as new versions")
    p.add_argument("files", nargs="+")
    p.set_defaults(run=cmd_deploy)
    p = sub.add_parser("demo-seed", help="create the demo users and demo cases")
    p.add_argument("--password", help="password of every demo user (default: CONCORD_DEMO_PASSWORD or random)")
    p.set_defaults(run=cmd_demo_seed)
    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host", help="default: CONCORD_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, help="default: CONCORD_PORT or 5000")
    p.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    app = create_app()
    app.config["SECRET_KEY_FROM_ENV"] = bool(os.environ.get("CONCORD_SECRET_KEY"))
    try:
        return int(args.run(args, app.config))
    except ConcordError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
