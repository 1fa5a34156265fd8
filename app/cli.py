"""The `concord` command: what an operator needs without the web UI. Calls services only."""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from app import cli_accounts, cli_operations, clock, create_app
from app.config import load_config
from app.errors import ConcordError, ProcessInvalid
from app.services import demo
from app.services.designer import deployments, repository
from app.services.kernel import audit, calendars, timers
from app.services.kernel.principals import Principal
from app.services.operations import schema

OPERATOR = Principal("cli", "命令行操作员", frozenset({"admin"}), frozenset())


def _read_files(paths: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ConcordError(f"{raw}: no such file or folder")
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
    years = calendars.import_shipped()
    print(f"database ready: {config['DATABASE_URL']}" + (f" (calendars imported: {years})" if years else ""))
    return 0


def cmd_validate(args: argparse.Namespace, config: dict[str, Any]) -> int:
    report = deployments.validate(OPERATOR, _read_files(args.files))
    if report.valid:
        print("valid: " + ", ".join(p.key for p in report.processes))
        return 0
    print("invalid:", file=sys.stderr)
    _print_problems(report.errors)
    return 1


def cmd_deploy(args: argparse.Namespace, config: dict[str, Any]) -> int:
    try:
        outcome = repository.deploy(OPERATOR, _read_files(args.files), force=args.force)
    except ProcessInvalid as exc:
        print("not deployed; the files have problems:", file=sys.stderr)
        _print_problems(exc.problems)
        return 1
    # Keeping a designer's newer version is what a repeated `make run` must do: not an error.
    for note in outcome.notes:
        print(f"{note.zh}\n{note.en}")
    if not outcome.notes:
        verb = "deployed" if outcome.created else "unchanged, already deployed as"
        print(f"{verb}: " + ", ".join(f"{d['key']} v{d['version']}" for d in outcome.definitions))
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


def cmd_timers_run(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from app import jobs

    now = _instant(args.now) if args.now else None
    if args.once or now is not None:
        # --now moves the whole pass, not only what is due: the records it writes, the tasks a fired rung
        # opens (a supervision task) and their due dates and ladders all carry that instant.
        previous = clock.set_clock(clock.FrozenClock(now)) if now is not None else None
        try:
            report = timers.run_once(now=now, worker=args.worker)
        finally:
            if previous is not None:
                clock.set_clock(previous)
        print(f"fired {report.fired}, retried later {report.failed}, incidents {report.incidents}, "
              f"busy (next pass) {report.skipped}")
        return 0
    print(f"timer worker {args.worker or timers.default_worker_name()} polling every "
          f"{config['TIMER_POLL_SECONDS']} s (Ctrl+C to stop)")
    jobs.run_forever(config["TIMER_POLL_SECONDS"], worker=args.worker)
    return 0


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConcordError(f"--now {text!r} is not an ISO 8601 instant such as 2026-12-01T09:30:00+08:00") from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(load_config()["TIMEZONE"]))


def cmd_calendar_import(args: argparse.Namespace, config: dict[str, Any]) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConcordError(f"cannot read {args.file}: {exc}") from exc
    result = calendars.import_year(OPERATOR, text)
    print(f"imported {result['year']}: {result['holidays']} holiday dates, {result['make_up_workdays']} make-up "
          f"working days; {result['recomputed_tasks']} provisional due dates recomputed ({result['source']})")
    return 0


def cmd_calendar_show(args: argparse.Namespace, config: dict[str, Any]) -> int:
    year = calendars.show_year(OPERATOR, args.year)
    print(f"{year['year']} — {year['source']} (imported by {year['imported_by']} at {year['imported_at']})")
    print("holidays:          " + ", ".join(year["holidays"]))
    print("make-up workdays:  " + ", ".join(year["make_up_workdays"]))
    return 0


def cmd_import(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from tqdm import tqdm

    from app.services.intake import import_mapping, imports

    mapping = import_mapping.load(args.source)
    with tqdm(unit="row", file=sys.stderr, desc=Path(args.file).name) as bar:
        report = imports.run(OPERATOR, Path(args.file), mapping, on_start=lambda n: bar.reset(total=n),
                             on_row=bar.update)
    print(f"{report.rows} rows: {report.imported} imported, {report.already_present} already present, "
          f"{report.invalid} invalid (not imported)")
    if report.error_report:
        print(f"row errors: {report.error_report}", file=sys.stderr)
    return 1 if report.invalid else 0


def cmd_audit_verify(args: argparse.Namespace, config: dict[str, Any]) -> int:
    result = audit.verify(OPERATOR, case_id=args.case)
    scope = f"the audit log of case {args.case}" if args.case is not None else "the audit log"
    checked = f"{result.chains} chains, {result.entries} entries checked"
    if result.chains == 0:
        print(f"{scope}: no entries")
        return 0
    if result.intact:
        print(f"{scope}: intact ({checked})")
        return 0
    print(f"{scope}: BROKEN ({checked}; {len(result.breaks)} chains broken)")
    print(f"first broken entry: {result.breaks[0]}")
    if len(result.breaks) > 1:
        print("the first break of each broken chain:")
        for line in audit.breaks_text(result.breaks):
            print(line)
    return 1


def cmd_serve(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from werkzeug.serving import run_simple

    if not config.get("SECRET_KEY_FROM_ENV"):
        print("note: CONCORD_SECRET_KEY is not set; tokens are signed with instance/secret_key", file=sys.stderr)
    from app import jobs

    host, port = args.host or config["HOST"], args.port or config["PORT"]
    app = create_app()
    if config["TIMERS_IN_PROCESS"]:
        jobs.start_scheduler(config["TIMER_POLL_SECONDS"])
        print(f"timer service running in this process (every {config['TIMER_POLL_SECONDS']} s)")
    print(f"Concord serving on http://{host}:{port}/ (API under /api/v1)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        jobs.stop_scheduler()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concord", description="Concord 综治中心矛盾纠纷闭环流转平台")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create or upgrade the database schema").set_defaults(run=cmd_init_db)
    p = sub.add_parser("validate", help="validate BPMN/DMN/form files (or folders)")
    p.add_argument("files", nargs="+")
    p.set_defaults(run=cmd_validate)
    p = sub.add_parser("deploy", help="deploy BPMN/DMN/form files (or folders) as new versions; files identical "
                       "to a deployed version, or older than a designer's deployment from the pages, deploy nothing")
    p.add_argument("files", nargs="+")
    p.add_argument("--force", action="store_true", help="deploy even over a newer version a designer deployed from "
                   "the pages, or as a new version when the files are an older version's (a rollback)")
    p.set_defaults(run=cmd_deploy)
    p = sub.add_parser("demo-seed", help="create the demo users and demo cases")
    p.add_argument("--password", help="password of every demo user (default: CONCORD_DEMO_PASSWORD or random)")
    p.set_defaults(run=cmd_demo_seed)
    timer_parser = sub.add_parser("timers", help="the timer service").add_subparsers(dest="action", required=True)
    p = timer_parser.add_parser("run", help="fire due timers (a worker for multi-node deployments)")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument("--now", help="one pass at this ISO instant (drills and tests): what is due, the records "
                   "written and the tasks a rung opens all carry it; implies --once")
    p.add_argument("--worker", help="name recorded on fired timers (default host:pid)")
    p.set_defaults(run=cmd_timers_run)
    calendar_parser = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(
        dest="action", required=True)
    p = calendar_parser.add_parser("import", help="import one year's holiday arrangements (JSON)")
    p.add_argument("file")
    p.set_defaults(run=cmd_calendar_import)
    p = calendar_parser.add_parser("show", help="show an imported year")
    p.add_argument("year", type=int)
    p.set_defaults(run=cmd_calendar_show)
    p = sub.add_parser("import", help="import a day's export of 12345 / 110 / petition cases (CSV or JSON Lines)")
    p.add_argument("file")
    p.add_argument("--source", required=True, help="mapping: 12345, 110, petition, or a .toml mapping file")
    p.set_defaults(run=cmd_import)
    cli_accounts.add_commands(sub)
    cli_operations.add_commands(sub)
    audit_parser = sub.add_parser("audit", help="the audit log").add_subparsers(dest="action", required=True)
    p = audit_parser.add_parser("verify", help="recompute the audit log's hash chains; exit 1 naming the first "
                                               "broken entry")
    p.add_argument("--case", type=int, help="only this case's chain (its id)")
    p.set_defaults(run=cmd_audit_verify)
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
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"error: the database at {app.config['DATABASE_URL']} is not usable ({reason}); "
              "is it running, and did `concord init-db` run?", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
