"""The inbox and the escalation board at a million open tasks, over HTTP (issue 16, goal 1).

    .venv/bin/python bench/inbox.py [--tasks 1000000] [--rounds 5] [--requests 40]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--explain]

A scratch database beside the URL's (created and dropped) gets the schema, the shipped processes, the demo
users and a few real cases registered through the services; those cases are then cloned with SQL
(INSERT ... SELECT) into `--tasks` open tasks spread over the groups, the escalation levels (70 % on time,
15 % warning, 10 % overdue, 5 % listed) and two months of due instants (2 % without one), about a third of
them held by someone. A real server (gunicorn with one worker when it can be imported, else werkzeug's)
serves it on a loopback port; one client then times each request type over keep-alive HTTP: per round
`--requests` requests, p50 and p95, and prints min/median/max over the rounds. Target: p95 <= 20 ms.
`--explain` prints EXPLAIN ANALYZE of the statements behind the decisive requests.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

PASSWORD = "bench-password-1"
# Groups that hold open tasks, by weight (the dispatch desk and the people's mediation room the busiest).
GROUPS = {"dispatch": 15, "mediation": 30, "family": 12, "labor": 15, "property": 12, "consumer": 10, "intake": 2,
          "supervisor": 2, "supervisor_chengguan": 2}
LEVELS = "ARRAY[0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,2,2,3]"  # 70 / 15 / 10 / 5 %
TITLES = ["楼上漏水引发邻里纠纷", "外卖骑手工资拖欠", "物业费争议", "装修噪音扰民", "租房押金不退", "婚后财产分割",
          "停车位占用纠纷", "网购商品质量投诉", "农民工工资拖欠", "宅基地边界争议", "宠物伤人赔偿", "预付卡退费纠纷",
          "小区电梯故障维修费分摊", "劳动合同解除补偿", "赡养老人费用分担", "交通事故赔偿"]
CATEGORIES = ["neighbor", "gig_labor", "property_mgmt", "family", "labor", "consumer", "contract", "other"]
PLACES = ["幸福小区", "城关街道", "河西镇", "滨江花园", "东风村", "新华路", "锦绣家园", "工业园区"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def generate(url: str, count: int) -> float:
    from app import create_app
    from app.services import demo
    from app.services.designer import deployments
    from app.services.kernel.principals import Principal
    from app.services.operations import schema

    began = time.perf_counter()
    schema.upgrade(url)
    create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TIMERS_IN_PROCESS": False})
    files = {p.name: p.read_bytes() for d in ("processes", "forms") for p in (ROOT / d).iterdir()
             if p.suffix in (".bpmn", ".dmn", ".json")}
    deployments.deploy(Principal("bench", "bench", frozenset({"admin"}), frozenset()), files)
    demo.seed_users(PASSWORD)
    demo.seed_cases()  # real cases, registered through the services: the templates of the clones
    groups = [name for name, weight in GROUPS.items() for _ in range(weight)]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
        templates = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        start = conn.execute(text("SELECT max(id) FROM cases")).scalar_one()
        # Cases: the template's row, with a number, work order, title and reception of their own.
        conn.execute(text(f"""
            INSERT INTO cases (id, case_no, title, description, request, source, external_id, category, urgency,
                risk_level, amount, grid, address, willing_to_mediate, status, procedure, procedure_since,
                handling_group, complexity, outcome, satisfied, reopen_count, process_instance_id, created_by,
                created_at, received_at, updated_at, closed_at)
            SELECT {start} + g, 'ZZ-2026-' || lpad(g::text, 7, '0'),
                ({_array(PLACES)})[1 + g % 8] || (1 + g % 40) || '栋' || ({_array(TITLES)})[1 + (g / 8) % 16],
                t.description, t.request, CASE WHEN g % 3 = 0 THEN 'hotline_12345' ELSE t.source END,
                CASE WHEN g % 3 = 0 THEN 'GD2026' || lpad((1127000000 + g)::text, 10, '0') END,
                ({_array(CATEGORIES)})[1 + floor(random() * 8)::int],
                CASE WHEN g % 10 = 0 THEN 'urgent' ELSE 'normal' END, t.risk_level, t.amount, t.grid, t.address,
                t.willing_to_mediate, 'handling', t.procedure, t.procedure_since, t.handling_group, t.complexity,
                NULL, NULL, 0, t.process_instance_id, t.created_by,
                now() - (g % 5000) * interval '10 minutes', now() - (g % 5000) * interval '10 minutes', now(), NULL
            FROM generate_series(1, {count}) g
            JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, * FROM cases) t ON t.n = g % {templates}"""))
        conn.execute(text(f"""
            INSERT INTO parties (case_id, position, name, role, phone, id_number)
            SELECT {start} + g, 0, substr('{SURNAMES}', 1 + g % 20, 1) || substr('{GIVEN}', 1 + (g / 20) % 20, 1)
                || substr('{GIVEN}', 1 + (g / 400) % 20, 1), 'applicant', '13' || lpad(g::text, 9, '0'), NULL
            FROM generate_series(1, {count}) g"""))
        # One open task per clone, of its template's first open task (its step, form and instance).
        conn.execute(text(f"""
            INSERT INTO tasks (id, instance_id, case_id, case_no, bpmn_id, title, group_name, assignee, state,
                form_key, created_at, due_at, due_provisional, time_limit, limit_working, escalation_level)
            SELECT md5('bench-' || g), t.instance_id, {start} + g, 'ZZ-2026-' || lpad(g::text, 7, '0'), t.bpmn_id,
                t.title, s.grp, CASE WHEN g % 3 = 1 THEN s.member END, 'open', t.form_key,
                now() - (g % 5000) * interval '10 minutes',
                CASE WHEN g % 50 = 0 THEN NULL
                     WHEN s.level = 0 THEN now() + random() * interval '45 days'
                     ELSE now() - random() * interval '15 days' END,
                false, t.time_limit, true, s.level
            FROM generate_series(1, {count}) g
            JOIN (SELECT row_number() OVER (ORDER BY case_id) - 1 AS n, * FROM
                    (SELECT DISTINCT ON (case_id) * FROM tasks WHERE state = 'open' ORDER BY case_id, created_at) f) t
              ON t.n = g % {templates},
            LATERAL (SELECT ({_array(groups)})[1 + floor(random() * {len(groups)})::int + g * 0] AS grp,
                            ({LEVELS})[1 + floor(random() * 20)::int + g * 0] AS level) s0,
            LATERAL (SELECT s0.grp, s0.level,
                            CASE s0.grp WHEN 'mediation' THEN 'mediator' || (1 + g % 7) WHEN 'dispatch' THEN 'dispatch1'
                                        ELSE s0.grp || '1' END AS member) s"""))
        conn.execute(text("UPDATE tasks SET assignee = 'mediator1' WHERE assignee LIKE 'mediator%'"
                          " AND assignee <> 'mediator1' AND md5(id) < '3'"))  # mediator1: a few thousand of their own
        conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - began


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(url: str, port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "CONCORD_DATABASE_URL": url, "CONCORD_SECRET_KEY": "bench", "CONCORD_TIMERS_IN_PROCESS": "0",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        import gunicorn  # noqa: F401

        command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                   "app.wsgi:application"]
        server = "gunicorn (1 worker)"
    except ImportError:
        command = [sys.executable, "-c", "from werkzeug.serving import run_simple; from app.wsgi import application; "
                   f"run_simple('127.0.0.1', {port}, application, threaded=False)"]
        server = "werkzeug (one thread)"
    process = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, server
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


class Client:
    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port)
        self.connection.connect()
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload)

    def login(self, username: str) -> Client:
        self.token = self.call("POST", "/auth/login", {"username": username, "password": PASSWORD})["token"]
        return self


def deep_cursor(url: str, where: str, fraction: float = 0.9) -> tuple[str, int]:
    """The cursor after the row `fraction` of the way down a list, and its position, read from the database
    directly (walking there page by page would time the walk, not the page)."""
    from app.services.kernel import keyset
    engine = create_engine(url)
    with engine.connect() as conn:
        length = conn.execute(text(f"SELECT count(*) FROM tasks WHERE state = 'open' AND {where}")).scalar_one()
        position = int(length * fraction)
        row = conn.execute(text(f"SELECT due_at, created_at, id FROM tasks WHERE state = 'open' AND {where} ORDER BY "
                                "coalesce(due_at, 'infinity'::timestamptz), created_at, id OFFSET :n LIMIT 1"),
                           {"n": position}).one()
    engine.dispose()
    return keyset.encode((row.due_at, row.created_at, row.id), keyset.AFTER), position


def scenarios(url: str) -> list[tuple[str, str, str]]:
    """(label, user, path) of each request type timed."""
    deep_group, at_group = deep_cursor(url, "group_name = 'mediation'")
    deep_mine, at_mine = deep_cursor(url, "assignee = 'mediator1'")
    deep_all, at_all = deep_cursor(url, "true")
    deep_board, at_board = deep_cursor(url, "escalation_level >= 1")
    deep_township, at_township = deep_cursor(url, "escalation_level >= 1 AND group_name IN ('mediation', 'family', "
                                                  "'supervisor_chengguan')")
    q = urllib.parse.quote
    return [
        ("baseline: an empty answer", "mediator1", "/tasks?scope=mine&case_no=none"),
        ("inbox group, page 1", "mediator1", "/tasks?scope=group"),
        ("inbox group, page 2 (number)", "mediator1", "/tasks?scope=group&page=2"),
        (f"inbox group, deep (cursor @{at_group:,})", "mediator1", f"/tasks?scope=group&cursor={deep_group}"),
        ("inbox mine, page 1", "mediator1", "/tasks?scope=mine"),
        (f"inbox mine, deep (cursor @{at_mine:,})", "mediator1", f"/tasks?scope=mine&cursor={deep_mine}"),
        ("all (county supervisor), page 1", "supervisor1", "/tasks?scope=all"),
        (f"all (county), deep (cursor @{at_all:,})", "supervisor1", f"/tasks?scope=all&cursor={deep_all}"),
        ("all (township supervisor), page 1", "supervisor2", "/tasks?scope=all"),
        ("board (county), page 1", "supervisor1", "/escalations"),
        (f"board (county), deep (cursor @{at_board:,})", "supervisor1", f"/escalations?cursor={deep_board}"),
        ("board (county), level 3", "supervisor1", "/escalations?level=3"),
        ("board (township), page 1", "supervisor2", "/escalations"),
        (f"board (township), deep (cursor @{at_township:,})", "supervisor2", f"/escalations?cursor={deep_township}"),
        ("board, group + category", "supervisor1", "/escalations?group=labor&category=labor"),
        ("search: case number", "supervisor1", "/tasks?scope=all&q=ZZ-2026-0456789"),
        ("search: case number prefix", "supervisor1", "/tasks?scope=all&q=ZZ-2026-04567"),
        ("search: work order", "supervisor1", "/tasks?scope=all&q=GD20261127456789"),
        ("search: title fragment (3+ chars)", "supervisor1", f"/tasks?scope=all&q={q('幸福小区17栋')}"),
        ("search: title fragment (2 chars)", "mediator1", f"/tasks?scope=group&q={q('噪音')}"),
        ("search: phone (handler)", "mediator1", "/tasks?scope=group&q=130000456789"),
        ("search: name (handler)", "mediator1", f"/tasks?scope=group&q={q('王伟')}"),
        ("filter: category", "mediator1", "/tasks?scope=group&category=family"),
        ("filter: level 3", "mediator1", "/tasks?scope=group&level=3"),
        ("filter: due_before", "mediator1", "/tasks?scope=group&due_before=2026-12-01"),
        ("filter: category + level, all", "supervisor1", "/tasks?scope=all&category=consumer&level=2"),
    ]


def measure(port: int, plan: list[tuple[str, str, str]], rounds: int, requests: int) -> list[dict[str, Any]]:
    clients: dict[str, Client] = {}
    results = []
    for label, user, path in plan:
        client = clients.get(user) or clients.setdefault(user, Client(port).login(user))
        for _ in range(5):  # warm: connection, statement caches, the pages of the index
            answer = client.call("GET", path)
        p50s, p95s = [], []
        for _ in range(rounds):
            timings = []
            for _ in range(requests):
                began = time.perf_counter()
                client.call("GET", path)
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            p50s.append(statistics.median(timings))
            p95s.append(timings[max(0, int(len(timings) * 0.95) - 1)])
        results.append({"label": label, "p50": p50s, "p95": p95s, "items": len(answer["items"]),
                        "total": f"{answer['total']}{'' if answer['total_is_exact'] else '+'}"})
    return results


def report(results: list[dict[str, Any]]) -> bool:
    print(f"{'request':40} {'p50 ms min/med/max':>22} {'p95 ms min/med/max':>22}  items  total")
    ok = True
    for r in results:
        p50 = "/".join(f"{f(r['p50']):.1f}" for f in (min, statistics.median, max))
        p95 = "/".join(f"{f(r['p95']):.1f}" for f in (min, statistics.median, max))
        ok = ok and statistics.median(r["p95"]) <= 20
        print(f"{r['label']:40} {p50:>22} {p95:>22}  {r['items']:5}  {r['total']}")
    return ok


def explain(url: str) -> None:
    """EXPLAIN ANALYZE of the statements the services run for the decisive requests (captured as they run)."""
    from sqlalchemy import event

    from app import create_app
    from app.database import db
    from app.services.escalation import supervision
    from app.services.inbox import tasks
    from app.services.kernel.principals import find_principal

    create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TIMERS_IN_PROCESS": False})
    captured: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM tasks" in statement:
            captured.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", keep)
    cursor, _ = deep_cursor(url, "true")
    cases = [("inbox group, page 1", lambda: tasks.list_tasks(find_principal("mediator1"), scope="group")),
             ("all (county), deep cursor", lambda: tasks.list_tasks(find_principal("supervisor1"), scope="all",
                                                                      cursor=cursor)),
             ("board (township)", lambda: supervision.list_escalations(find_principal("supervisor2"))),
             ("search: work order", lambda: tasks.list_tasks(find_principal("supervisor1"), scope="all",
                                                               q="GD20261127456789")),
             ("search: title fragment", lambda: tasks.list_tasks(find_principal("supervisor1"), scope="all",
                                                                   q="幸福小区17栋"))]
    raw = create_engine(url)
    for label, run in cases:
        captured.clear()
        run()
        for statement, parameters in captured:
            with raw.connect() as conn:
                driver = conn.connection.driver_connection
                with driver.cursor() as cur:  # type: ignore[union-attr]
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
                    print(f"-- {label}\n" + "\n".join(line for (line,) in cur.fetchall()) + "\n")
    raw.dispose()
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--only", default="", help="time only the request types whose label contains this")
    parser.add_argument("--database-url", default=os.environ.get("CONCORD_BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--keep", metavar="NAME", help="use (or generate once and keep) the database NAME on the "
                                                       "server instead of a scratch one: for repeated runs")
    args = parser.parse_args()
    if args.keep:
        run(args, *kept_database(args.database_url, args.keep, args.tasks))
        return
    with scratch_database(args.database_url) as (url, version):
        run(args, url, version, generate(url, args.tasks))


def kept_database(server_url: str, name: str, count: int) -> tuple[str, str, float]:
    from sqlalchemy import make_url
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar_one()
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, version, 0.0 if exists else generate(url, count)


def run(args: argparse.Namespace, url: str, version: str, seconds: float) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        tasks = conn.execute(text("SELECT count(*) FROM tasks WHERE state = 'open'")).scalar_one()
    engine.dispose()
    made = f" generated in {seconds:.0f} s" if seconds else ""
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"PostgreSQL {version}; {tasks:,} open tasks{made}")
    plan = [step for step in scenarios(url) if args.only in step[0] or step[0].startswith("baseline")]
    port = free_port()
    process, server = serve(url, port)
    try:
        print(f"server: {server}; {args.rounds} rounds of {args.requests} requests per type, one client")
        ok = report(measure(port, plan, args.rounds, args.requests))
    finally:
        process.terminate()
        process.wait(10)
    if args.explain:
        explain(url)
    print("target p95 <= 20 ms:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
