"""`concord instances|incidents ...`: operating running cases from the command line (services only), for the
operator who scripts it: list what runs where, cancel, suspend, resume, move, migrate; list and retry incidents."""
from __future__ import annotations

import argparse
from typing import Any

from app.errors import ConcordError
from app.services.kernel.principals import Principal
from app.services.operations import incidents, intervention, lifecycle, listing, migration

OPERATOR = Principal("cli", "命令行操作员", frozenset({"admin"}), frozenset())


def cmd_list(args: argparse.Namespace, config: dict[str, Any]) -> int:
    page, shown = 1, 0
    while True:
        result = listing.list_instances(OPERATOR, process_key=args.process, version=args.version, state=args.state,
                                        waiting_at=args.waiting_at, incident=True if args.incident else None,
                                        page=page, per_page=200)
        for item in result["items"]:
            print(f"{item['id']:>8}  {item['case_no']:<16} {item['process_key']} v{item['version']:<3} "
                  f"{item['state']:<9} {','.join(item['waiting_at']) or '-'}{'  INCIDENT' if item['incident'] else ''}")
        shown += len(result["items"])
        if shown >= result["total"] or not result["items"]:
            print(f"{result['total']} instances")
            return 0
        page += 1


def cmd_case(args: argparse.Namespace, config: dict[str, Any]) -> int:
    act = {"cancel": lifecycle.cancel, "suspend": lifecycle.suspend, "resume": lifecycle.resume}[args.action]
    result = act(OPERATOR, args.case_id, {"reason": args.reason})
    print(f"{result['case_no']}: {result['status']}")
    return 0


def cmd_move(args: argparse.Namespace, config: dict[str, Any]) -> int:
    result = intervention.move(OPERATOR, args.instance_id, {"from": args.source, "to": args.target,
                                                            "reason": args.reason})
    print(f"{result['case']['case_no']}: now at {', '.join(t['name'] for t in result['next_tasks']) or '-'}")
    return 0


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise ConcordError(f"--map {pair!r}: write it as old_element=new_element")
        mapping[old.strip()] = new.strip()
    return mapping


def cmd_migrate(args: argparse.Namespace, config: dict[str, Any]) -> int:
    body: dict[str, Any] = {"process_key": args.process, "from_version": args.source, "to_version": args.target,
                            "mapping": _mapping(args.map or []), "dry_run": args.dry_run}
    if args.ids:
        body["instance_ids"] = [int(part) for part in args.ids.split(",") if part.strip()]
    report = migration.migrate(OPERATOR, body)
    verb = "would migrate" if args.dry_run else "migrated"
    print(f"{report['instances']} instances of {args.process} v{args.source}: {report['migrable']} migrable, "
          f"{verb} {report['migrable'] if args.dry_run else report['migrated']} to v{args.target}, "
          f"{len(report['problems'])} problems")
    for problem in report["problems"]:
        print(f"  instance {problem['instance_id']} [{problem['element_id'] or '-'}]: {problem['message']}")
    return 1 if report["problems"] else 0


def cmd_incidents_list(args: argparse.Namespace, config: dict[str, Any]) -> int:
    items = incidents.list_incidents(OPERATOR)["items"]
    for item in items:
        print(f"{item['id']:>6}  {item['case_no'] or '-':<16} {item['element']:<24} x{item['occurrences']}  "
              f"{item['error'][:80]}")
    print(f"{len(items)} unresolved incidents")
    return 0


def cmd_incidents_retry(args: argparse.Namespace, config: dict[str, Any]) -> int:
    incidents.retry(OPERATOR, args.incident_id)
    print(f"incident {args.incident_id}: retried")
    return 0


def add_commands(sub: Any) -> None:
    parser = sub.add_parser("instances", help="running cases: list, cancel, suspend, resume, move, migrate")
    actions = parser.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="process instances, newest first")
    p.add_argument("--process", help="a process key")
    p.add_argument("--version", type=int)
    p.add_argument("--state", choices=sorted(listing.STATES))
    p.add_argument("--waiting-at", help="a human task's BPMN id")
    p.add_argument("--incident", action="store_true", help="only those with an unresolved incident")
    p.set_defaults(run=cmd_list)
    for action, text in (("cancel", "cancel (撤销) a case"), ("suspend", "suspend (中止) a case"),
                         ("resume", "resume (恢复) a suspended case")):
        p = actions.add_parser(action, help=text)
        p.add_argument("case_id", type=int)
        p.add_argument("--reason", required=True)
        p.set_defaults(run=cmd_case)
    p = actions.add_parser("move", help="move a token (流程干预)")
    p.add_argument("instance_id", type=int)
    p.add_argument("--from", dest="source", required=True, help="BPMN id the token waits at")
    p.add_argument("--to", dest="target", required=True, help="BPMN id of a human task")
    p.add_argument("--reason", required=True)
    p.set_defaults(run=cmd_move)
    p = actions.add_parser("migrate", help="migrate running instances to another version (exit 1 on problems)")
    p.add_argument("--process", required=True)
    p.add_argument("--from", dest="source", type=int, required=True, help="version migrated from")
    p.add_argument("--to", dest="target", type=int, required=True, help="version migrated to")
    p.add_argument("--map", action="append", help="old_element=new_element (repeatable)")
    p.add_argument("--ids", help="comma-separated instance ids (default: every running one)")
    p.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    p.set_defaults(run=cmd_migrate)
    parser = sub.add_parser("incidents", help="steps and timers that failed inside the engine")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="unresolved incidents").set_defaults(run=cmd_incidents_list)
    p = actions.add_parser("retry", help="retry an incident")
    p.add_argument("incident_id", type=int)
    p.set_defaults(run=cmd_incidents_retry)
