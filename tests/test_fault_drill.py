"""The fault drill on PostgreSQL: `kill -9` of the server and of timer workers under load, and a stalled
database — no acknowledged step lost, none applied twice, every timer fired exactly once.

Each scenario runs on a private database (migrated and seeded here, dropped afterwards) against real
processes: `concord serve` (werkzeug, threaded, timers off) driven over HTTP by four client threads that
take cases from registration (half by the 12345 feed, half at the window) through dispatch, sign-for,
handling and the feedback visit to closing; and `concord timers run --now ISO` workers. Time is moved with
`--now` and the test's frozen clock; nothing sleeps to wait for a timer — the drill polls a port, a process
or the database, each with a deadline.

Where a fault lands is not left to chance: the drill holds a table that every command (or every firing)
writes to until the server's transactions (or the workers' batches) wait inside it, then kills, freezes or
lets go. A request that got no answer, or a 503, may or may not have been applied: the clients read before
they send a step again, as an integration must (README, "Operations"); a feed's work order is sent again
as it is, being idempotent by `external_id`.

    make test PYTEST_ARGS="-m drill"
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from app import clock, create_app
from app.config import PROJECT_ROOT
from app.database import db
from app.services import demo
from app.services.accounts import users
from app.services.designer import deployments
from app.services.inbox import tasks as task_service
from app.services.intake import cases as case_service
from app.services.kernel import calendars, instances, principals
from app.services.operations import schema
from tests.conftest import BUNDLE, OPERATOR, PASSWORD, private_postgres
from tests.stall_proxy import StallProxy

pytestmark = [pytest.mark.drill, pytest.mark.postgres]

SH = ZoneInfo("Asia/Shanghai")
SECRET = "drill-secret"
STARTUP_SECONDS = 90.0  # a busy 2-core machine takes a few seconds to import and start a process
DRILL_SECONDS = 240.0  # the client threads of one scenario give up after this (a failure, never a pass)
REQUEST_TIMEOUT = 30.0  # a client waiting this long for an answer counts the request as unanswered
# The route each case takes, as bench/lifecycle.py drives it: (task, who completes it, the form data).
STEPS = (
    ("dispatch", "dispatch1", {"handling_group": "mediation", "complexity": "simple"}),
    ("sign_for", "mediator1", {"accepted": True}),
    ("handle", "mediator1", {"outcome": "resolved"}),
    ("feedback", "intake1", {"satisfied": True}),
)
CLIENTS, CASES_PER_CLIENT = 4, 4
COMMANDS = CLIENTS * CASES_PER_CLIENT * (1 + len(STEPS))  # registrations and completions


# The database and the processes ---------------------------------------------------------------------
@contextmanager
def _drill_database(prefix: str) -> Iterator[str]:
    """A private database, migrated, with the shipped calendars, the routes and forms, the demo users and
    a feed's integration account; dropped afterwards (whatever connections killed processes left)."""
    with private_postgres(prefix) as url:
        schema.upgrade(url)
        create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        try:
            calendars.import_shipped()
            deployments.deploy(OPERATOR, dict(BUNDLE))
            demo.seed_users(PASSWORD)
            users.upsert_user("integration1", PASSWORD, display_name="12345 接口", roles=["integration"], groups=[])
            yield url
        finally:
            db.dispose()


def _environment(url: str, **settings: Any) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "CONCORD_DATABASE_URL": url,
           "CONCORD_SECRET_KEY": SECRET, "CONCORD_TIMERS_IN_PROCESS": "false"}
    env.update({f"CONCORD_{name}": str(value) for name, value in settings.items()})
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Server:
    """`concord serve` in a subprocess on one port; killed with SIGKILL and started again on the same port
    and database, as a node that crashed and came back."""

    def __init__(self, url: str, logs: Path, **settings: Any) -> None:
        self.env = _environment(url, **settings)
        self.port = _free_port()
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.logs / f"server-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{_tail(self.log)}")
            try:
                if _http(self.port, "GET", "/api/v1/health", timeout=2.0).status == 200:
                    return
            except NoAnswer:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not answer /health within {STARTUP_SECONDS:.0f} s:\n{_tail(self.log)}")

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, "the server is not running"
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


# HTTP ------------------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    started: float  # time.monotonic()
    elapsed: float

    @property
    def problem(self) -> str:
        kind = self.body.get("type", "") if isinstance(self.body, dict) else ""
        return str(kind).rsplit("/", 1)[-1]


class NoAnswer(Exception):
    """No answer came: the connection was refused (nobody listens), cut off (the server died with the
    request in flight) or timed out (a hang)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _http(port: int, method: str, path: str, *, token: str | None = None, body: Any = None,
          timeout: float = REQUEST_TIMEOUT) -> Answer:
    """One request on a fresh connection, answered, or NoAnswer."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except ConnectionRefusedError:
        raise NoAnswer("refused") from None
    except TimeoutError:
        raise NoAnswer("timed out") from None
    except (OSError, http.client.HTTPException):
        raise NoAnswer("cut off") from None
    finally:
        connection.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return Answer(response.status, parsed, {k.lower(): v for k, v in response.getheaders()}, started,
                  time.monotonic() - started)


# The clients -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """One case the clients register and drive to the end: by the 12345 feed (idempotent by external_id)
    or at the window (no external id: a lost answer is checked by searching the title)."""
    run: str
    key: str
    feed: bool

    @property
    def title(self) -> str:
        return f"故障演练 {self.run} {self.key}"

    @property
    def phone(self) -> str:
        return f"139{int(self.key[1:]):08d}"

    @property
    def external_id(self) -> str | None:
        return f"DRILL-{self.run}-{self.key}" if self.feed else None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"title": self.title, "description": "故障演练：整个流程在故障中走完。",
                                "source": "hotline_12345" if self.feed else "walk_in", "category": "neighbor",
                                "parties": [{"name": "张三", "role": "applicant", "phone": self.phone}]}
        if self.feed:
            body["external_id"] = self.external_id
        return body


def _plans(run: str) -> list[list[Plan]]:
    numbered = range(CLIENTS * CASES_PER_CLIENT)
    plans = [Plan(run, f"c{n:02d}", feed=n % 2 == 0) for n in numbered]
    return [plans[c::CLIENTS] for c in range(CLIENTS)]


class DrillAborted(Exception):
    pass


@dataclass
class Ledger:
    """What the clients sent and were told, shared by their threads."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[tuple[str, Answer]] = field(default_factory=list)  # (method and path, answer)
    unanswered: list[tuple[str, float, str]] = field(default_factory=list)  # (method and path, when, why)
    registered: dict[str, int] = field(default_factory=dict)  # plan key -> case id, acknowledged (200/201)
    completed: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # task id -> (case, step, user), 200
    # After a lost answer: registrations and completions found applied (a feed's work order sent again and
    # answered 200 "already registered" among them), and those found not applied and sent again.
    found_applied: Counter[str] = field(default_factory=Counter)
    feed_repeats: int = 0
    sent_again: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # Gates the drill holds clients at, before a command: (client, case index, "register" or a step) -> opened.
    gates: dict[tuple[int, int, str], threading.Event] = field(default_factory=dict)
    arrived: set[tuple[int, int, str]] = field(default_factory=set)

    def count(self, tally: Counter[str], kind: str) -> None:
        with self.lock:
            tally[kind] += 1

    def at_gates(self, gates: tuple[tuple[int, int, str], ...]) -> bool:
        with self.lock:
            return set(gates) <= self.arrived

    def open(self, gates: tuple[tuple[int, int, str], ...]) -> None:
        for gate in gates:
            self.gates[gate].set()

    @property
    def acknowledged(self) -> int:
        with self.lock:
            return len(self.registered) + len(self.completed)

    def note(self, what: str, answer: Answer | NoAnswer, started: float) -> None:
        with self.lock:
            if isinstance(answer, NoAnswer):
                self.unanswered.append((what, started, answer.reason))
            else:
                self.answers.append((what, answer))

    def unanswered_because(self, reason: str) -> int:
        with self.lock:
            return sum(why == reason for _what, _when, why in self.unanswered)

    def refusals(self) -> list[tuple[str, Answer]]:
        with self.lock:
            return [(what, a) for what, a in self.answers if a.status >= 300]


class Client:
    """One officer's desk: drives its cases step by step over HTTP, through restarts and stalls."""

    def __init__(self, number: int, port: int, ledger: Ledger, stop: threading.Event, deadline: float) -> None:
        self.number, self.port, self.ledger, self.stop, self.deadline = number, port, ledger, stop, deadline
        self.tokens: dict[str, str] = {}

    def checkpoint(self, case_index: int, command: str) -> None:
        """Wait here while the drill holds this client before a command, until it opens the gate."""
        gate = self.ledger.gates.get((self.number, case_index, command))
        if gate is None:
            return
        with self.ledger.lock:
            self.ledger.arrived.add((self.number, case_index, command))
        while not gate.is_set():
            self._pause()

    def _pause(self) -> None:
        if self.stop.is_set() or time.monotonic() > self.deadline:
            raise DrillAborted("the drill was stopped or ran past its deadline")
        time.sleep(0.05)

    def send(self, method: str, path: str, user: str | None, body: Any = None) -> Answer | None:
        token = self.token(user) if user else None
        started = time.monotonic()
        try:
            answer = _http(self.port, method, f"/api/v1{path}", token=token, body=body)
        except NoAnswer as lost:
            self.ledger.note(f"{method} {path}", lost, started)
            return None
        self.ledger.note(f"{method} {path}", answer, started)
        if answer.status == 401:
            raise AssertionError(f"{method} {path} as {user}: 401 {answer.body} (a token did not survive?)")
        return answer

    def token(self, user: str) -> str:
        while user not in self.tokens:
            answer = self.send("POST", "/auth/login", None, {"username": user, "password": PASSWORD})
            if answer is not None and answer.status == 200:
                self.tokens[user] = answer.body["token"]
            elif answer is None or _retryable(answer):
                self._pause()
            else:
                raise AssertionError(f"login of {user}: {answer.status} {answer.body}")
        return self.tokens[user]

    def read(self, path: str, user: str = "admin1") -> Any:
        """GET until it answers 200: through a restart or a stall, within the drill's deadline."""
        while True:
            answer = self.send("GET", path, user)
            if answer is not None and answer.status == 200:
                return answer.body
            if answer is not None and not _retryable(answer):
                raise AssertionError(f"GET {path}: {answer.status} {answer.body}")
            self._pause()

    # Steps ---------------------------------------------------------------------------------------------
    def register(self, plan: Plan) -> int:
        user = "integration1" if plan.feed else "intake1"
        attempts = 0
        while True:
            attempts += 1
            answer = self.send("POST", "/cases", user, plan.body())
            if answer is not None and answer.status in (200, 201):
                assert answer.status == 201 or (plan.feed and attempts > 1), (plan, answer.status, answer.body)
                with self.ledger.lock:
                    self.ledger.registered[plan.key] = int(answer.body["id"])
                    if attempts > 1:  # the feed's work order sent again: was it there already?
                        already = answer.status == 200
                        self.ledger.feed_repeats += already
                        (self.ledger.found_applied if already else self.ledger.sent_again)["register"] += 1
                return int(answer.body["id"])
            if answer is not None and not _retryable(answer):
                raise AssertionError(f"registering {plan.key}: {answer.status} {answer.body}")
            if not plan.feed:  # not idempotent: was it registered before the answer was lost?
                found = self.read(f"/cases?q={quote(plan.title)}")["items"]
                assert len(found) <= 1, f"{plan.key} registered {len(found)} times: {found}"
                if found:
                    self.ledger.count(self.ledger.found_applied, "register")
                    return int(found[0]["id"])
                self.ledger.count(self.ledger.sent_again, "register")
            self._pause()  # a feed sends the same work order again: answered 200 if it was registered

    def work(self, case_index: int, case_id: int, step: str, user: str, data: dict[str, Any]) -> None:
        case = self.read(f"/cases/{case_id}")
        open_tasks = [t for t in case["active_tasks"] if t["name"] == step]
        assert len(open_tasks) == 1, f"case {case_id}: expected one open {step}, found {case['active_tasks']}"
        task_id = open_tasks[0]["id"]
        while True:  # claiming again is harmless: a holder's claim succeeds
            answer = self.send("POST", f"/tasks/{task_id}/claim", user)
            if answer is not None and answer.status == 200:
                break
            if answer is not None and not _retryable(answer):
                raise AssertionError(f"claiming {step} of case {case_id}: {answer.status} {answer.body}")
            self._pause()
        self.checkpoint(case_index, step)
        while True:
            answer = self.send("POST", f"/tasks/{task_id}/complete", user, {"data": data})
            if answer is not None and answer.status == 200:
                with self.ledger.lock:
                    self.ledger.completed[task_id] = (case_id, step, user)
                return
            if answer is not None and not _retryable(answer) and answer.problem != "task-not-open":
                raise AssertionError(f"completing {step} of case {case_id}: {answer.status} {answer.body}")
            # The outcome is unknown: read the task, never complete it again blindly.
            state = self.read(f"/tasks/{task_id}", user)["state"]
            if state == "completed":
                self.ledger.count(self.ledger.found_applied, "complete")
                return
            assert state == "open", f"{step} of case {case_id} is {state}"
            assert answer is None or answer.problem != "task-not-open", f"409 task-not-open, yet {step} is open"
            self.ledger.count(self.ledger.sent_again, "complete")
            self._pause()

    def drive(self, plans: list[Plan]) -> None:
        try:
            for index, plan in enumerate(plans):
                self.checkpoint(index, "register")
                case_id = self.register(plan)
                for step, user, data in STEPS:
                    self.work(index, case_id, step, user, data)
        except DrillAborted:
            if not self.stop.is_set():
                with self.ledger.lock:
                    self.ledger.errors.append(f"a client ran past the drill's {DRILL_SECONDS:.0f} s")
        except Exception:  # noqa: BLE001 - reported by the main thread
            with self.ledger.lock:
                self.ledger.errors.append(traceback.format_exc())


def _retryable(answer: Answer) -> bool:
    """Answers that change nothing for sure or leave the outcome unknown: the database unavailable (503),
    a row held by a transaction that a stall or a crash left behind (409 concurrent-update)."""
    return answer.status == 503 or answer.problem == "concurrent-update"


@contextmanager
def _clients(port: int, ledger: Ledger, run: str) -> Iterator[Callable[[], bool]]:
    """Client threads driving every planned case; yields a function telling whether they are all done.
    On leaving, waits for them (within the deadline) and fails with what went wrong."""
    stop, deadline = threading.Event(), time.monotonic() + DRILL_SECONDS
    threads = [threading.Thread(target=Client(n, port, ledger, stop, deadline).drive, args=(plans,), daemon=True,
                                name=f"drill client {n}") for n, plans in enumerate(_plans(run))]
    for thread in threads:
        thread.start()
    try:
        yield lambda: not any(thread.is_alive() for thread in threads) or bool(ledger.errors)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not ledger.errors, "a client failed:\n" + "\n".join(ledger.errors)
        assert not any(thread.is_alive() for thread in threads), "the clients did not finish within the deadline"
    finally:
        stop.set()


def _count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = DRILL_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# What must hold after the load -------------------------------------------------------------------------
def _assert_nothing_lost_nothing_twice(url: str, ledger: Ledger, run: str) -> None:
    plans = {plan.key: plan for group in _plans(run) for plan in group}
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            cases = conn.execute(text("SELECT id, title, source, external_id, status, process_instance_id "
                                      "FROM cases")).all()
            task_rows = conn.execute(text("SELECT id, case_id, bpmn_id, state, completed_by FROM tasks")).all()
            audit: Counter[tuple[Any, ...]] = Counter(tuple(row) for row in conn.execute(text(
                "SELECT case_id, action, task_id FROM audit_log WHERE case_id IS NOT NULL")))
            instance_status = {row.id: row.status for row in conn.execute(text(
                "SELECT id, status FROM process_instances"))}
            rungs: Counter[tuple[Any, ...]] = Counter(tuple(row) for row in conn.execute(text(
                "SELECT task_id, kind, state FROM timers")))
    finally:
        engine.dispose()

    # Every planned case exactly once (none lost, no duplicate from a retried registration), nothing else.
    titles = Counter(row.title for row in cases)
    assert titles == Counter(plan.title for plan in plans.values()), titles
    by_key = {row.title.rsplit(" ", 1)[-1]: row for row in cases}
    for key, case_id in ledger.registered.items():
        assert by_key[key].id == case_id, f"acknowledged registration {key} (case {case_id}) is not in the database"
    for key, row in by_key.items():
        assert (row.source, row.external_id) == (plans[key].body()["source"], plans[key].external_id)

    # Every acknowledged completion is in the database; no task completed twice; each case went the route once.
    tasks = {row.id: row for row in task_rows}
    for task_id, (case_id, step, user) in ledger.completed.items():
        task = tasks.get(task_id)
        assert task is not None and (task.case_id, task.bpmn_id, task.state, task.completed_by) == (
            case_id, step, "completed", user), f"acknowledged completion of {step} (task {task_id}) lost: {task}"
    route = [step for step, _user, _data in STEPS]
    for row in cases:
        mine = [t for t in task_rows if t.case_id == row.id]
        assert sorted(t.bpmn_id for t in mine) == sorted(route), (row.id, [(t.bpmn_id, t.state) for t in mine])
        assert all(t.state == "completed" for t in mine), (row.id, [(t.bpmn_id, t.state) for t in mine])
        for task in mine:
            for action in ("task.opened", "task.completed"):
                assert audit[(row.id, action, task.id)] == 1, \
                    f"case {row.id}: {audit[(row.id, action, task.id)]} {action} records for {task.bpmn_id}"
            # Its first rung put in once, and cancelled with the step (no timer service runs here).
            assert rungs.pop((task.id, "warning", "cancelled")) == 1, f"case {row.id}: rungs of {task.bpmn_id}"
        completions = sum(n for (case, action, _t), n in audit.items() if case == row.id and action == "task.completed")
        assert completions == len(route), f"case {row.id}: {completions} task.completed records"
        assert audit[(row.id, "case.registered", None)] == 1 and audit[(row.id, "case.closed", None)] == 1, row.id
        assert not [a for (case, a, _t) in audit if case == row.id and a == "task.failed"], row.id
        assert row.status == "closed" and instance_status[row.process_instance_id] == "completed", row

    assert not rungs, f"timers beyond one cancelled rung per task: {rungs}"

    # The stored process instances load (as a node that never had them in memory loads them).
    create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    try:
        with db.transaction() as session:
            for row in cases:
                workflow, _definition = instances.read(session, row.process_instance_id)
                assert workflow.is_completed(), f"the process of case {row.id} did not load as completed"
    finally:
        db.dispose()
    _audit_chain_verifies(url)


def _audit_chain_verifies(url: str) -> None:
    """The audit log the drill leaves behind verifies: every chain whole, no entry rewritten or lost."""
    result = subprocess.run([sys.executable, "-m", "app.cli", "audit", "verify"], cwd=PROJECT_ROOT,
                            env=_environment(url), capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert result.returncode == 0, result.stdout + result.stderr


def _summary(ledger: Ledger) -> str:
    statuses = Counter(a.status for _what, a in ledger.answers)
    return (f"{len(ledger.registered)} registrations and {len(ledger.completed)} completions acknowledged, "
            f"after a lost answer {dict(ledger.found_applied)} found applied ({ledger.feed_repeats} by a feed's "
            f"repeat answered 200) and {dict(ledger.sent_again)} found not applied and sent again; "
            f"requests unanswered: {ledger.unanswered_because('cut off')} cut off, "
            f"{ledger.unanswered_because('refused')} refused, {ledger.unanswered_because('timed out')} timed out; "
            f"answers {dict(sorted(statuses.items()))}")


# 1. The server killed under load -------------------------------------------------------------------------
# Completions and registrations write the timers table (a rung cancelled or put in); claims, logins and reads
# do not. Holding it makes commands wait inside their transactions, after the engine step, until let go.
HOLD_COMMANDS = "LOCK TABLE timers IN EXCLUSIVE MODE"
_OTHERS = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
           "AND backend_type = 'client backend' AND ")  # the server's or the workers' (not autovacuum)
WAITING = _OTHERS + "wait_event_type = 'Lock'"
BUSY = _OTHERS + "state IN ('active', 'idle in transaction')"
# Where the clients stand at each kill: (client, case index, the command it is about to send). Clients 0 and 2
# register by the feed, 1 and 3 at the window: each kill catches a registration of each kind and two
# completions inside the server.
FIRST_KILL = ((0, 1, "sign_for"), (1, 1, "handle"), (2, 1, "register"), (3, 1, "register"))
SECOND_KILL = ((0, 2, "register"), (1, 2, "register"), (2, 2, "dispatch"), (3, 2, "feedback"))


def _all_at(gates: tuple[tuple[int, int, str], ...], ledger: Ledger, done: Callable[[], bool]) -> None:
    _wait_for(lambda: done() or ledger.at_gates(gates), "the clients at their gates")
    assert not done(), "a client failed (or finished) before the server could be killed"


def _kill_before_commit(server: Server, url: str, go: Callable[[], None]) -> None:
    """SIGKILL the server while the commands `go` sends wait inside their transactions, then let them go:
    they can only roll back, and their clients got no answer."""
    engine = create_engine(url)
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(text(HOLD_COMMANDS))
            go()
            _wait_for(lambda: _count(engine, WAITING) >= CLIENTS, "the commands inside the server", STARTUP_SECONDS)
            server.kill()
    finally:
        engine.dispose()


def _kill_after_commit_before_answer(server: Server, front: StallProxy, url: str, go: Callable[[], None]) -> None:
    """SIGKILL the server after the commands `go` sends committed but before their answers reached the
    clients: hold them inside their transactions, freeze the proxy in front of the server, let them commit,
    kill, cut the clients' connections. Their clients got no answer for steps that were applied."""
    engine = create_engine(url)
    try:
        with engine.connect() as holder:
            with holder.begin():
                holder.execute(text(HOLD_COMMANDS))
                go()
                _wait_for(lambda: _count(engine, WAITING) >= CLIENTS, "the commands inside the server",
                          STARTUP_SECONDS)
                front.freeze()  # their requests are in; what the server answers now stays in the proxy
            _wait_for(lambda: _count(engine, BUSY) == 0, "the held commands to commit", STARTUP_SECONDS)
        server.kill()
        front.cut()
    finally:
        front.thaw()
        engine.dispose()


def test_a_server_killed_twice_under_load_loses_no_acknowledged_step_and_applies_none_twice(tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    with _drill_database("concord_drill_kill") as url:
        server, ledger = Server(url, tmp_path), Ledger()
        ledger.gates = {gate: threading.Event() for gate in FIRST_KILL + SECOND_KILL}
        front = StallProxy("127.0.0.1", server.port)  # between the clients and the server, on its own port
        try:
            server.start()
            with _clients(front.port, ledger, run) as done:
                _all_at(FIRST_KILL, ledger, done)
                _kill_before_commit(server, url, lambda: ledger.open(FIRST_KILL))
                server.start()
                _all_at(SECOND_KILL, ledger, done)
                _kill_after_commit_before_answer(server, front, url, lambda: ledger.open(SECOND_KILL))
                server.start()
        finally:
            server.stop()
            front.close()
        print(f"\nserver kill drill: {_summary(ledger)}")
        # The first kill: none of the four commands was applied; each was read and sent again (the feed's too).
        assert ledger.sent_again["register"] >= 2 and ledger.sent_again["complete"] >= 2, ledger.sent_again
        # The second: all four were applied without an answer, and found so; the feed's repeat answered 200.
        assert ledger.found_applied == {"register": 2, "complete": 2} and ledger.feed_repeats == 1, \
            (ledger.found_applied, ledger.feed_repeats)
        assert not ledger.refusals(), f"answers other than 2xx without a database outage: {ledger.refusals()[:5]}"
        _assert_nothing_lost_nothing_twice(url, ledger, run)


# 2. Timer workers killed mid-batch -----------------------------------------------------------------------
DISPATCH_CASES, SIGN_FOR_CASES = 70, 50  # each open task climbs warning, overdue, listed: 360 rungs
WARNINGS_DUE = datetime(2026, 12, 2, 18, 0, tzinfo=SH)  # registered Tuesday 1 Dec 09:30: past 80 % of a day
OVERDUE_AND_LISTED_DUE = datetime(2026, 12, 4, 9, 0, tzinfo=SH)  # due Thursday 00:00, listed Thursday 19:15
WORKER_BATCH = 5  # due timers claimed per transaction: a pass is many transactions
HOLD_FIRINGS = "LOCK TABLE audit_log IN EXCLUSIVE MODE"  # every rung that fires writes its record there


def _start_workers(env: dict[str, str], now: datetime, names: list[str], logs: Path) -> dict[str, Any]:
    workers = {}
    for name in names:
        with (logs / f"{name}.log").open("wb") as log:
            workers[name] = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "timers", "run", "--now", now.isoformat(), "--worker", name],
                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return workers


def _fire_with_kills(url: str, engine: Engine, now: datetime, logs: Path, *, hold_at_once: bool) -> list[str]:
    """Fire everything due at `now` with three `concord timers run --now` workers, two of them SIGKILLed
    mid-batch, then with fresh workers until nothing due remains. Mid-batch for sure: the audit log is held
    (every firing writes to it) until all three wait inside a batch they claimed — from the start
    (`hold_at_once`: the killed workers never committed anything), or once the first batches committed."""
    env = _environment(url, TIMER_BATCH=WORKER_BATCH, DB_LOCK_TIMEOUT_MS=int(STARTUP_SECONDS * 1000))
    due = "SELECT count(*) FROM timers WHERE state = 'waiting' AND fire_at <= :now"
    names = [f"drill-{now:%d%H}-w{n}" for n in range(3)]
    killed, workers = names[:2], {}
    try:
        with engine.connect() as holder:
            with holder.begin():
                if hold_at_once:
                    holder.execute(text(HOLD_FIRINGS))
                workers = _start_workers(env, now, names, logs)
                if not hold_at_once:
                    _wait_for(lambda: _count(engine, "SELECT count(*) FROM timers WHERE fired_at = :now", now=now) > 0,
                              "the first batches", STARTUP_SECONDS)
                    holder.execute(text(HOLD_FIRINGS))
                _wait_for(lambda: _count(engine, WAITING) >= len(workers), "every worker inside a batch",
                          STARTUP_SECONDS)
                assert _count(engine, due, now=now) > 0
                for name in killed:
                    os.kill(workers[name].pid, signal.SIGKILL)
                    workers[name].wait(timeout=30)
            # The hold is let go: the third worker goes on; the killed ones' batches roll back.
            for name, worker in workers.items():
                code = worker.wait(timeout=STARTUP_SECONDS)
                expected = -signal.SIGKILL if name in killed else 0
                assert code == expected, f"worker {name} exited with {code}:\n{_tail(logs / f'{name}.log')}"
        for round_no in range(2, 6):  # fresh workers until nothing due remains
            if _count(engine, due, now=now) == 0:
                return killed
            workers = _start_workers(env, now, [f"drill-{now:%d%H}-r{round_no}w{n}" for n in range(2)], logs)
            for name, worker in workers.items():
                code = worker.wait(timeout=STARTUP_SECONDS)
                assert code == 0, f"worker {name} exited with {code}:\n{_tail(logs / f'{name}.log')}"
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=30)
    assert _count(engine, due, now=now) == 0, f"timers still due at {now} after five rounds of workers"
    return killed


def test_timer_workers_killed_mid_batch_fire_every_rung_exactly_once(frozen_clock: clock.FrozenClock,
                                                                      tmp_path: Path) -> None:
    with _drill_database("concord_drill_timers") as url:
        intake, dispatcher = principals.find_principal("intake1"), principals.find_principal("dispatch1")
        assert intake is not None and dispatcher is not None
        for n in range(DISPATCH_CASES + SIGN_FOR_CASES):  # Tuesday 1 December 2026, 09:30 (frozen)
            case, _new = case_service.register(intake, {
                "title": f"时限演练 {n}", "description": "无人办理，逐级预警。", "source": "walk_in",
                "category": "neighbor", "parties": [{"name": "张三", "role": "applicant", "phone": f"137{n:08d}"}]})
            if n >= DISPATCH_CASES:
                task_service.complete(dispatcher, case["active_tasks"][0]["id"],
                                      {"handling_group": "mediation", "complexity": "simple"})
        db.dispose()
        engine = create_engine(url)
        try:
            killed = _fire_with_kills(url, engine, WARNINGS_DUE, tmp_path, hold_at_once=True)
            killed_fired = _count(engine, "SELECT count(*) FROM timers WHERE fired_by = ANY(:names)", names=killed)
            with engine.connect() as conn:
                levels = Counter(conn.execute(text("SELECT escalation_level FROM tasks WHERE state = 'open'"))
                                 .scalars())
            assert levels == {1: DISPATCH_CASES + SIGN_FOR_CASES}, levels
            assert killed_fired == 0, "a worker killed inside its first batch left firings behind"
            killed += _fire_with_kills(url, engine, OVERDUE_AND_LISTED_DUE, tmp_path, hold_at_once=False)
            _assert_every_rung_fired_once(engine)
            _audit_chain_verifies(url)
            print(f"\ntimer drill: killed {killed}")
        finally:
            engine.dispose()


def _assert_every_rung_fired_once(engine: Engine) -> None:
    first, second = WARNINGS_DUE, OVERDUE_AND_LISTED_DUE
    with engine.connect() as conn:
        tasks = conn.execute(text("SELECT id, case_id, bpmn_id, state, escalation_level, created_at FROM tasks")).all()
        timers = conn.execute(text("SELECT id, task_id, kind, state, fire_at, fired_at, fired_by, attempts "
                                   "FROM timers")).all()
        records = conn.execute(text("SELECT action, task_id, at, (detail->>'timer')::int AS timer FROM audit_log "
                                    "WHERE action IN ('task.warning', 'task.overdue', 'task.listed')")).all()
        notes: Counter[tuple[Any, ...]] = Counter(tuple(row) for row in conn.execute(text(
            "SELECT task_id, kind FROM notifications")))
        incidents = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    ladder = [t for t in tasks if t.bpmn_id in ("dispatch", "sign_for") and t.state == "open"]
    assert Counter(t.bpmn_id for t in ladder) == {"dispatch": DISPATCH_CASES, "sign_for": SIGN_FOR_CASES}
    expected = {"warning": first, "overdue": second, "listed": second}
    by_task: dict[str, list[Any]] = {}
    for timer in timers:
        by_task.setdefault(timer.task_id, []).append(timer)
    for task in ladder:
        rungs = sorted(by_task.pop(task.id, []), key=lambda t: t.id)
        assert [(r.kind, r.state, r.fired_at, r.attempts) for r in rungs] == [
            (kind, "fired", at, 0) for kind, at in expected.items()], (task.bpmn_id, rungs)
        assert all(r.fired_by.startswith("drill-") for r in rungs), rungs
        assert task.escalation_level == 3, task
        assert notes.pop((task.id, "reminder")) == 1 and notes.pop((task.id, "listed")) == 1, task
    assert not notes, f"notifications beyond one reminder and one listing per task: {notes}"
    # One timeline record per fired rung, at the instant it fired, naming its timer.
    fired = {t.id: t for t in timers if t.state == "fired"}
    per_timer = Counter(r.timer for r in records)
    assert per_timer == Counter(set(fired)), {t: per_timer[t] for t in set(per_timer) | set(fired) if per_timer[t] != 1}
    for record in records:
        timer = fired[record.timer]
        assert (record.action, record.task_id, record.at) == (f"task.{timer.kind}", timer.task_id, timer.fired_at)
    # Overdue on sign-for opened one supervision task per case, at that instant; its ladder waits.
    supervision = [t for t in tasks if t.bpmn_id == "supervise"]
    signing = {t.case_id for t in ladder if t.bpmn_id == "sign_for"}
    assert sorted(t.case_id for t in supervision) == sorted(signing)
    for task in supervision:
        assert (task.state, task.escalation_level, task.created_at) == ("open", 0, second), task
        [rung] = by_task.pop(task.id)
        assert (rung.kind, rung.state) == ("warning", "waiting") and rung.fire_at > second, rung
    assert not [t for rungs in by_task.values() for t in rungs if t.state != "cancelled"], by_task
    assert incidents == 0


# 3. The database stalls under load -----------------------------------------------------------------------
STALL_LIMITS = {"DB_CONNECT_TIMEOUT_SECONDS": 1.0, "DB_STALL_SECONDS": 1.0, "DB_PROBE_TIMEOUT_SECONDS": 0.5,
                "DB_STATEMENT_TIMEOUT_MS": 5000, "DB_LOCK_TIMEOUT_MS": 10_000, "DB_RETRY_AFTER_SECONDS": 7}
# A request meeting the stall: the stall period and the probe (~1.5 s), or the pool's ping and a connection
# attempt; with a wide margin for a busy machine. /health: the probe (0.5 s), with a margin.
REQUEST_BOUND, HEALTH_BOUND = 8.0, 3.0
FREEZE_SECONDS = 4.0
IN_FLIGHT = 2  # commands inside the server, for sure, when the database freezes


def _freeze_with_commands_in_flight(proxy: StallProxy, url: str) -> float:
    """Freeze the database path while IN_FLIGHT commands are inside their transactions, for sure: hold them
    (directly, not through the proxy), freeze, let them go — what the database answers them now stays in
    the proxy. Returns when the freeze began."""
    engine = create_engine(url)
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(text(HOLD_COMMANDS))
            _wait_for(lambda: _count(engine, WAITING) >= IN_FLIGHT, "commands waiting in the server", STARTUP_SECONDS)
            frozen_at = time.monotonic()
            proxy.freeze()
        return frozen_at
    finally:
        engine.dispose()


def test_a_database_stall_under_load_answers_503_with_retry_after_and_the_load_goes_on(tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    with _drill_database("concord_drill_stall") as url:
        direct = make_url(url)
        proxy = StallProxy(direct.host or "127.0.0.1", direct.port or 5432)
        through_proxy = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        server, ledger = Server(through_proxy, tmp_path, **STALL_LIMITS), Ledger()
        health: list[Answer] = []
        try:
            server.start()
            with _clients(server.port, ledger, run) as done:
                _wait_for(lambda: done() or ledger.acknowledged >= 0.3 * COMMANDS, "30 % of the commands")
                assert not done(), "the clients finished (or failed) before the database could stall"
                frozen_at = _freeze_with_commands_in_flight(proxy, url)
                try:
                    health.append(_http(server.port, "GET", "/api/v1/health"))
                    _wait_for(lambda: time.monotonic() - frozen_at >= FREEZE_SECONDS and len(
                        [a for _w, a in ledger.refusals() if a.started > frozen_at]) >= 2, "503s during the stall", 60)
                    health.append(_http(server.port, "GET", "/api/v1/health"))
                    acknowledged_in_stall = ledger.acknowledged
                finally:
                    thawed_at = time.monotonic()
                    proxy.thaw()
        finally:
            server.stop()
            proxy.close()
        print(f"\nstall drill: frozen {thawed_at - frozen_at:.1f} s; {_summary(ledger)}")

        assert not ledger.unanswered, f"requests without an answer (a hang or a crash): {ledger.unanswered[:5]}"
        slowest = max(ledger.answers, key=lambda item: item[1].elapsed)
        assert slowest[1].elapsed < REQUEST_BOUND, f"{slowest[0]} took {slowest[1].elapsed:.1f} s"
        for answer in health:
            assert answer.status == 503 and answer.elapsed < HEALTH_BOUND, answer
            assert answer.headers["retry-after"] == "7" and answer.body["database"] == "unavailable"
        # Every request made while the database was frozen answered 503 (nothing is served without it).
        during = [(w, a) for w, a in ledger.answers if frozen_at + 0.2 < a.started < a.started + a.elapsed < thawed_at]
        assert during and not [(w, a.status) for w, a in during if a.status != 503], during
        for what, answer in ledger.refusals():
            assert answer.status in (503, 409), (what, answer.status, answer.body)
            if answer.status == 503:
                assert answer.headers.get("retry-after") == "7" and answer.problem == "database-unavailable", answer
                assert answer.headers["content-type"] == "application/problem+json", answer
            else:
                assert answer.problem == "concurrent-update", (what, answer.body)
        # The commands caught inside their transactions gave up within the bound too, with 503.
        caught = [(w, a) for w, a in ledger.answers
                  if w.startswith("POST") and a.started < frozen_at < a.started + a.elapsed]
        assert len([a for _w, a in caught if a.status == 503]) >= IN_FLIGHT, caught
        assert ledger.acknowledged > acknowledged_in_stall, "nothing was acknowledged after the thaw"
        _assert_nothing_lost_nothing_twice(url, ledger, run)
