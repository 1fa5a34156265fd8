"""Whole case lifecycles over HTTP against a real server, beside the same cases through the services.

A gunicorn server (2 sync workers, `app.wsgi:application`) serves the database; a separate load process
runs 1, 4 and 16 clients, each driving whole cases (register, then dispatch, sign_for, handle and feedback
completed by members of the tasks' groups: five requests, one transaction each) on a connection per
request. In the same run, alternating with the HTTP batches, this process drives the same cases through
the services (bench/workload.py), one at a time. Printed per database and client count: cases/s over HTTP
(median of the rounds), p50/p95 of each request type, and the ratio HTTP / services (median of the
rounds' ratios, each round's two sides measured back to back).

    .venv/bin/python bench/http_throughput.py [--databases sqlite,postgresql] [--clients 1,4,16] [--cases N]
        [--rounds N]

PostgreSQL: CONCORD_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/concord_bench, which
must exist; its tables are created and filled by the benchmark). SQLite: a temporary file (WAL,
synchronous as configured: FULL by default). The timer service is off in the server (the service side
runs none either).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on the path, and this file would hide the standard
# library's http package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import http.client  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import workload  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/concord_bench"


# The load process ---------------------------------------------------------------------------------

class HttpSender:
    """A workload Sender over plain HTTP/1.1 (gunicorn's sync workers close each connection)."""

    def __init__(self, port: int) -> None:
        self.port = port

    def send(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw else None


def drive(port: int, clients: int, cases: int, offset: int) -> dict[str, Any]:
    """`clients` threads, `cases` cases in all; the wall time and each request's latency by type."""
    latencies: dict[str, list[float]] = {"register": [], "complete": []}
    lock = threading.Lock()
    lifecycles = []
    for c in range(clients):
        lifecycle = workload.Lifecycle(HttpSender(port), client=offset + c)
        lifecycle.login_all()
        lifecycles.append(lifecycle)

    @contextmanager
    def timing(kind: str) -> Iterator[None]:
        began = time.perf_counter()
        yield
        with lock:
            latencies[kind].append(time.perf_counter() - began)

    share = [cases // clients + (1 if c < cases % clients else 0) for c in range(clients)]
    failures: list[BaseException] = []

    def run(c: int) -> None:
        try:
            for n in range(share[c]):
                lifecycles[c].case(n, timing)
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    return {"seconds": elapsed, "cases": cases, "latencies": latencies}


# The parent: server, service side, report ------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str) -> Iterator[int]:
    port = _free_port()
    env = {**os.environ, "CONCORD_DATABASE_URL": url, "CONCORD_SECRET_KEY": "bench",
           "CONCORD_TIMERS_IN_PROCESS": "0", "CONCORD_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
           "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--backlog", "64",
                                "--log-level", "warning", "app.wsgi:application"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/v1/health")
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _load(port: int, clients: int, cases: int, offset: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--drive", str(port), "--clients", str(clients),
                          "--cases", str(cases), "--offset", str(offset)], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def bench(url: str, clients_levels: list[int], cases: int, rounds: int) -> list[str]:
    workload.prepare(url)
    services = workload.ServiceLifecycle(client=9)
    numbers = iter(range(10**8))
    for _ in range(5):  # warm up imports and caches
        services.case(next(numbers))
    lines = []
    with server(url) as port:
        _load(port, 2, 4, offset=0)  # the workers warm up too
        offset = 10
        for clients in clients_levels:
            http_rates, service_rates, ratios = [], [], []
            latencies: dict[str, list[float]] = {"register": [], "complete": []}
            for _ in range(rounds):
                gc.collect()
                began = time.perf_counter()
                for _ in range(cases):
                    services.case(next(numbers))
                service_rate = cases / (time.perf_counter() - began)
                result = _load(port, clients, cases, offset)
                offset += clients
                http_rate = cases / result["seconds"]
                http_rates.append(http_rate)
                service_rates.append(service_rate)
                ratios.append(http_rate / service_rate)
                for kind, values in result["latencies"].items():
                    latencies[kind].extend(values)
            lat = "  ".join(f"{kind} p50 {_percentile(v, 0.5):6.1f} ms p95 {_percentile(v, 0.95):6.1f} ms"
                            for kind, v in latencies.items())
            lines.append(f"{clients:3d} clients: HTTP {statistics.median(http_rates):6.1f} cases/s "
                         f"(min {min(http_rates):.1f}, max {max(http_rates):.1f}), services "
                         f"{statistics.median(service_rates):6.1f} cases/s, ratio {statistics.median(ratios):.2f} "
                         f"(min {min(ratios):.2f}, max {max(ratios):.2f})  |  {lat}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--cases", type=int, default=48, help="cases per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--drive", type=int, help=argparse.SUPPRESS)  # the load process: the server's port
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(args.drive, int(args.clients), args.cases, args.offset)))
        return
    levels = [int(c) for c in args.clients.split(",")]
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"gunicorn 2 sync workers; {args.cases} cases per side per round, {args.rounds} rounds")
    for database in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            url = (f"sqlite:///{tmp}/http.db" if database == "sqlite"
                   else os.environ.get("CONCORD_BENCH_DATABASE_URL", DEFAULT_PG))
            if database != "sqlite":
                _empty_postgres(url)
            print(f"{database}:")
            for line in bench(url, levels, args.cases, args.rounds):
                print("  " + line, flush=True)


def _empty_postgres(url: str) -> None:
    """A fresh schema each run: earlier runs' cases would make this one slower than the last."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main()
