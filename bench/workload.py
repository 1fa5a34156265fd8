"""The case lifecycle the HTTP and round-trip benchmarks drive: register a dispute case at the window,
then dispatch, sign_for, handle and feedback (each completed by a member of the task's group), closed.

The same journey runs through the services (`ServiceLifecycle`) and over the API (`Lifecycle`, given
anything that sends a request: Flask's test client or a real HTTP connection), so that their
throughputs compare the same work: five commands, one transaction each.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
# The project first, and this folder only as the package `bench` (a script's own folder on the path lets
# a module here hide a standard one of the same name).
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

PASSWORD = "bench-password"
STEPS = (
    ("dispatch", "dispatch1", {"handling_group": "mediation", "complexity": "simple"}),
    ("sign_for", "mediator1", {"accepted": True}),
    ("handle", "mediator1", {"outcome": "resolved"}),
    ("feedback", "intake1", {"satisfied": True}),
)
USERS = ("intake1", "dispatch1", "mediator1")
CASE = {"title": "基准测试案件", "description": "邻里纠纷基准", "source": "walk_in", "category": "neighbor"}


def case_body(n: int, client: int = 0) -> dict[str, Any]:
    # A different applicant each time, as at a real window (repeat callers are flagged as duplicates).
    phone = f"13{client % 10}{n % 10**8:08d}"
    return {**CASE, "parties": [{"name": "张三", "role": "applicant", "phone": phone}]}


def prepare(url: str, config: dict[str, Any] | None = None) -> Any:
    """Migrate the database at `url`, deploy the shipped routes and seed the demo users; the app."""
    from app import create_app
    from app.services import demo
    from app.services.designer import deployments
    from app.services.kernel.principals import Principal
    from app.services.operations import schema

    schema.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "TIMERS_IN_PROCESS": False, **(config or {})})
    operator = Principal("bench", "bench", frozenset({"admin"}), frozenset())
    files = {p.name: p.read_bytes() for d in ("processes", "forms") for p in (ROOT / d).iterdir()}
    deployments.deploy(operator, files)
    demo.seed_users(PASSWORD)
    return app


class Sender(Protocol):
    def send(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]: ...


class TestClientSession:
    """A Sender over Flask's test client (in process: no sockets, no server)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.open(path, method=method, json=body, headers=headers)
        return response.status_code, response.get_json()


Timing = Callable[[str], AbstractContextManager[Any]]


def _untimed(_kind: str) -> AbstractContextManager[Any]:
    return nullcontext()


class Lifecycle:
    """Whole cases over the API, as the officers' clients would send them."""

    def __init__(self, sender: Sender, client: int = 0) -> None:
        self.sender, self.client, self.tokens = sender, client, {}

    def login_all(self) -> None:
        for user in USERS:
            status, answer = self.sender.send("POST", "/api/v1/auth/login", {"username": user, "password": PASSWORD})
            assert status == 200, (status, answer)
            self.tokens[user] = answer["token"]

    def case(self, n: int, timing: Timing = _untimed) -> None:
        with timing("register"):
            status, case = self.sender.send("POST", "/api/v1/cases", case_body(n, self.client), self.tokens["intake1"])
        assert status == 201, (status, case)
        next_tasks = case["active_tasks"]
        for name, user, data in STEPS:
            [task] = next_tasks
            assert task["name"] == name, task
            with timing("complete"):
                status, result = self.sender.send("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data},
                                                  self.tokens[user])
            assert status == 200, (status, result)
            next_tasks = result["next_tasks"]
        assert result["case"]["status"] == "closed", result


class ServiceLifecycle:
    """The same cases through the services, in this process (what the API calls, minus HTTP)."""

    def __init__(self, client: int = 0) -> None:
        from app.services.kernel.principals import find_principal

        self.client = client
        self.users = {name: find_principal(name) for name in USERS}

    def case(self, n: int) -> None:
        from app.services.inbox import tasks
        from app.services.intake import cases

        case, _created = cases.register(self.users["intake1"], case_body(n, self.client))
        next_tasks = case["active_tasks"]
        for name, user, data in STEPS:
            [task] = next_tasks
            assert task["name"] == name
            result = tasks.complete(self.users[user], task["id"], data)
            next_tasks = result["next_tasks"]
        assert result["case"]["status"] == "closed"
