"""The OpenAPI document against the live application: schemathesis runs every phase (examples, coverage,
fuzzing, stateful) with every check, positive and negative data, against a real HTTP server on loopback
that serves the `app` fixture, and fails on anything it finds.

- Authenticated operations run with a bearer token from POST /api/v1/auth/login (admin1, who holds every
  role; the integration account for POST /cases, the only kind that may send a work order's received_at);
  POST /auth/logout gets a fresh login each time, so that it never ends the token the rest of the run uses.
- The administration may end or weaken the accounts the run works with, so those calls are narrowed to
  accounts of the test's own (see _spare_the_run_accounts and Bearer below): changing, deactivating or
  resetting admin1, integration1 or the password-changing account goes to `contract-subject` instead, and
  POST /auth/password runs as `contract-password`, freshly reset by admin1 each time (what a reset login
  may do). admin1 is never locked out by failed logins: the authenticated run sends no login but its own,
  with the right password, and the public run (where logins fail by the hundred) has a database of its own.
- The public operations (health, login, this document) run without any credentials.
- Deterministic: a fixed seed, derandomized generation and no example database; one server thread, so
  requests are answered one at a time in the order sent.
- Bounded: MAX_EXAMPLES per operation and phase on SQLite, fewer on PostgreSQL (the same code paths; the
  PostgreSQL run guards against dialect-specific answers such as a driver error turning into a 500).

A live server rather than schemathesis's in-process WSGI transport: that transport passes requests-only
arguments to werkzeug's test client on its ignored_auth probes (schemathesis 4.32.5), and a socket is
what clients see anyway.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import StopReason, events, from_schema
from werkzeug.serving import WSGIRequestHandler, make_server

from app import clock
from app.forms.formats import is_id_number
from app.services import demo
from app.services.accounts import users
from tests.conftest import PASSWORD

SEED = 20261201
MAX_EXAMPLES = {"sqlite": 40, "postgresql": 10}
API = "/api/v1"
RUN_ACCOUNTS = ("admin1", "integration1")  # the run's own logins
SUBJECT = "contract-subject"  # takes the changes, deactivations and resets aimed at the run's own accounts
PASSWORD_CHANGER = "contract-password"  # changes its password on POST /auth/password


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 (werkzeug's name)
        pass


@pytest.fixture
def live_url(app: Any) -> Iterator[str]:
    """The app behind a real HTTP server on a free loopback port, one request at a time."""
    demo.seed_cases()  # cases and open tasks to list, show and act on
    for username in (SUBJECT, PASSWORD_CHANGER):  # accounts the administration may change at will
        users.upsert_user(username, PASSWORD, display_name=username, roles=["handler"], groups=["mediation"])
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="contract-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# Formats of the registration form that JSON Schema does not ship (app.forms.formats): generated valid.
def _id_number(draw_digits: str, birth: date) -> str:
    body = draw_digits[:6] + birth.strftime("%Y%m%d") + draw_digits[6:9]
    total = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    return body + "10X98765432"[total % 11]


_ID_NUMBERS = st.builds(_id_number, st.text("0123456789", min_size=9, max_size=9),
                        st.dates(date(1900, 1, 1), date(2026, 12, 1))).filter(is_id_number)
schemathesis.openapi.format("cn-id-number", _ID_NUMBERS)
schemathesis.openapi.format("cn-phone", st.from_regex(r"\A(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|12345|110)\Z"))


# Valid input the document cannot state, because it depends on the state of the data or on the clock. Each
# narrows one check on one operation, and says why.
_STATEFUL_VALIDITY = [
    # Whether a deployment is valid is what its files say as BPMN, DMN and forms (the lint answers 422 with
    # each problem); a multipart schema can only say "files".
    ("deploy_definitions", "positive_data_acceptance", "422"),
    # ... and so are a draft's files (the draft deploys what its editor saved, valid or not).
    ("deploy_draft", "positive_data_acceptance", "422"),
    # ... and the dry run walks only files that pass those checks (it answers their 422 otherwise).
    ("dry_run_definitions", "positive_data_acceptance", "422"),
    # Which messages a case takes, and their payloads' schemas, depend on the case's deployed process and
    # the step it waits at (choices narrowed by the process, dates not after today).
    ("deliver_message", "positive_data_acceptance", "422"),
    # Who may be assigned depends on the accounts and the task's group.
    ("assign_task", "positive_data_acceptance", "422"),
    # What completes a task is its own form (GET /tasks/{task_id} answers its schema, narrowed by the case).
    ("complete_task", "positive_data_acceptance", "422"),
    # Which elements a token may move between is the instance's process and where its token waits (the 422
    # names an unknown element, an element no token waits at, one in another subprocess or not a human task).
    ("move_token", "positive_data_acceptance", "422"),
    # Whether an attachment is accepted is what its bytes are (PDF, JPEG, PNG, DOCX, XLSX by their
    # signatures, 415 otherwise); a multipart schema can only say "a file".
    ("add_attachment", "positive_data_acceptance", "415"),
]
_POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def _config(examples: int, base: str, *, stateful: bool = True) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "base-url": base,
        "seed": SEED,
        "workers": 1,
        "request-timeout": 60,
        "generation": {
            "mode": "all",  # positive and negative
            "max-examples": examples,
            "deterministic": True,
            "database": "none",
            # The API refuses NUL characters anywhere (README: PostgreSQL text cannot hold them) with a 400
            # that the document states; positive data with one would be refused, so none is generated.
            "allow-x00": False,
        },
        # Every check: with `enabled = true` each built-in one runs, object_level_authorization aside
        # (it needs [auth.wfc] peers) and max_response_time (it needs a limit, which a shared CI machine
        # cannot promise).
        "checks": {"enabled": True},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
                   "stateful": {"enabled": stateful}},
        "operations": [{"include-operation-id": operation,
                        "checks": {check: {"expected-statuses": [*_POSITIVE_EXPECTED, status]}}}
                       for operation, check, status in _STATEFUL_VALIDITY],
    })


# Positive data whose validity depends on the clock, on two parameters at once or on what the run was given,
# made valid before it is sent (negative data is left alone): a report period runs forwards within its limits,
# a feed's received_at is not in the future, and a list's cursor is one the list gave out. The document states
# these rules in prose.
_PERIOD_DAYS = {"report_weekly": 93, "report_weekly_download": 93, "report_daily_chart": 93}
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _valid_period(query: dict[str, Any], days: int, today: date) -> None:
    if "from" not in query and "to" not in query:
        return
    last = _day(query.get("to")) or today
    first = _day(query.get("from")) or last - timedelta(days=6)
    first, last = min(first, last), max(first, last)
    first = max(first, last - timedelta(days=days - 1), _FIRST_DAY)
    last = min(last, first + timedelta(days=days - 1), _LAST_DAY)
    query["from"], query["to"] = first.isoformat(), last.isoformat()


def _positive_made_valid(directory: _Directory, case: Any) -> Any:
    if case.meta is None or case.meta.generation.mode != schemathesis.GenerationMode.POSITIVE:
        return case
    operation_id = case.operation.definition.raw.get("operationId", "")
    if operation_id.startswith("report_") and isinstance(case.query, dict):
        days = _PERIOD_DAYS.get(operation_id, 3 * 366 - 1)
        _valid_period(case.query, days, clock.today())
    if operation_id in ("list_tasks", "list_escalations") and isinstance(case.query, dict):
        case.query.pop("cursor", None)  # a cursor is one the list gave out (next_cursor, prev_cursor)
    if operation_id == "change_password" and isinstance(case.body, dict):
        case.body["old_password"] = PASSWORD  # Bearer logs contract-password in with it, freshly reset
    if isinstance(case.body, dict):
        _existing_references(directory, operation_id, case)
    if operation_id == "register_case" and isinstance(case.body, dict) and "received_at" in case.body:
        try:
            future = datetime.fromisoformat(case.body["received_at"]) > clock.now()
        except (TypeError, ValueError):
            future = False
        if future:
            case.body["received_at"] = "2026-11-30T17:45:00+08:00"
    return case


class _Directory:
    """The centres and groups as they are now (the run adds, moves and removes them), asked as admin1."""

    def __init__(self, base: str) -> None:
        self.base, self.token = base, ""

    def _get(self, path: str) -> list[dict[str, Any]]:
        self.token = self.token or _login(self.base, "admin1")
        response = requests.get(f"{self.base}{API}{path}", headers={"Authorization": f"Bearer {self.token}"},
                                timeout=60)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()
        return items

    def centres(self) -> dict[str, str | None]:
        return {c["key"]: c["parent"] for c in self._get("/centres")}

    def groups(self) -> set[str]:
        return {g["key"] for g in self._get("/groups")}


def _below(centres: dict[str, str | None], key: str) -> set[str]:
    found, frontier = {key}, [key]
    while frontier:
        parent = frontier.pop()
        children = {child for child, of in centres.items() if of == parent} - found
        found |= children
        frontier += children
    return found


def _existing_references(directory: _Directory, operation_id: str, case: Any) -> None:
    """Positive data names centres and groups that exist (a schema can only say "a key"): an unknown one is
    replaced by one that exists, a group without a centre goes to one when the tree has several roots (or
    none), and a centre moves only under one that is not itself nor below it."""
    body = case.body
    if operation_id in ("create_centre", "update_centre", "create_group", "update_group"):
        centres = directory.centres()
        field = "parent" if operation_id.endswith("_centre") else "centre"
        allowed = set(centres)
        if operation_id == "update_centre":
            allowed -= _below(centres, (case.path_parameters or {}).get("key", ""))
        value = body.get(field)
        defaulted = operation_id == "create_group" and value in (None, "")
        roots = [key for key, parent in centres.items() if parent is None]
        if (isinstance(value, str) and value not in allowed and not defaulted) or (defaulted and len(roots) != 1):
            body[field] = min(allowed) if allowed else None
    if operation_id in ("create_user", "update_user") and isinstance(body.get("groups"), list):
        groups = directory.groups()
        body["groups"] = [group for group in body["groups"] if group in groups]


def _spare_the_run_accounts(case: Any) -> Any:
    """What would change, deactivate or reset the run's own accounts (admin1's token is the whole run's;
    integration1 sends every POST /cases; contract-password logs in for POST /auth/password) goes to
    contract-subject instead: the same call on an account nothing else needs. Any mode, any phase, links too."""
    operation_id = case.operation.definition.raw.get("operationId", "")
    if operation_id in ("update_user", "reset_password") and isinstance(case.path_parameters, dict) and \
            case.path_parameters.get("username") in (*RUN_ACCOUNTS, PASSWORD_CHANGER):
        case.path_parameters = {**case.path_parameters, "username": SUBJECT}
    return case


def _load(base: str, examples: int, *, public: bool) -> Any:
    # Loaded as a document rather than from its URL: schemathesis leaves out the operation that served the
    # schema it loaded, and GET /openapi.json is one of the public operations to check.
    document = requests.get(f"{base}{API}/openapi.json", timeout=60).json()
    # The public operations link to nothing (a login's token is a header, which no OpenAPI link can carry),
    # so they have no stateful phase.
    schema = schemathesis.openapi.from_dict(document, config=_config(examples, base, stateful=not public))
    directory = _Directory(base)

    def map_case(context: Any, case: Any) -> Any:
        return _spare_the_run_accounts(_positive_made_valid(directory, case))

    schema.hook(map_case)
    # exclude, not include: includes are or-ed with those the configuration's [[operations]] entries add
    return schema.exclude(lambda ctx: ("security" in ctx.operation.definition.raw) == public)


def _login(base: str, username: str) -> str:
    response = requests.post(f"{base}{API}/auth/login", json={"username": username, "password": PASSWORD},
                             timeout=60)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def _authenticate(schema: Any, base: str) -> None:
    tokens: dict[str, str] = {}

    def token(user: str) -> str:
        if user not in tokens:
            tokens[user] = _login(base, user)
        return tokens[user]

    @schema.auth(refresh_interval=None)
    class Bearer:
        def get(self, case: Any, context: Any) -> str | None:
            operation = (case.operation.method.upper(), case.operation.path.removeprefix(API))
            if operation == ("POST", "/auth/logout"):
                return _login(base, "admin1")  # its own login: logging out must not end the run's token
            if operation == ("POST", "/auth/password"):
                # A login right after an administrator's reset, as the call is meant for (its password is
                # the old_password _positive_made_valid sends); the run's own accounts keep theirs.
                reset = requests.post(f"{base}{API}/users/{PASSWORD_CHANGER}/reset-password",
                                      json={"password": PASSWORD},
                                      headers={"Authorization": f"Bearer {token('admin1')}"}, timeout=60)
                assert reset.status_code == 200, reset.text
                return _login(base, PASSWORD_CHANGER)
            return token("integration1" if operation == ("POST", "/cases") else "admin1")

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _describe(label: str, check: str, failure: Any, case: Any) -> str:
    try:
        curl = case.as_curl_command()
    except Exception:  # noqa: BLE001 (a description only)
        curl = repr(case)
    return f"{label} [{check}] {failure.title}\n    {failure.message.strip()}\n    {curl}"


def _run(schema: Any) -> tuple[list[str], int]:
    """Every failure schemathesis reports, each once; and how many scenarios ran."""
    failures: dict[tuple[str, str, str], str] = {}
    problems: list[str] = []
    scenarios = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            scenarios += 1
            for case_id, nodes in event.recorder.checks.items():
                for node in nodes:
                    if node.failure_info is None:
                        continue
                    failure = node.failure_info.failure
                    key = (event.recorder.label, node.name, failure.title)
                    case = event.recorder.cases[case_id].value
                    failures.setdefault(key, _describe(event.recorder.label, node.name, failure, case))
        elif isinstance(event, events.NonFatalError):
            problems.append(f"error in {event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            problems.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            problems += [f"run failure: {f.title}: {f.message}" for f in event.failures]
            if event.stop_reason != StopReason.COMPLETED:
                problems.append(f"the run stopped early: {event.stop_reason}")
    return [*problems, *failures.values()], scenarios


def _examples(database_url: str) -> int:
    return MAX_EXAMPLES["sqlite" if database_url.startswith("sqlite") else "postgresql"]


def test_authenticated_operations_keep_the_document(live_url: str, database_url: str) -> None:
    schema = _load(live_url, _examples(database_url), public=False)
    _authenticate(schema, live_url)
    failures, scenarios = _run(schema)
    assert not failures, f"{len(failures)} contract failures:\n" + "\n".join(failures)
    assert scenarios > 50
    # The run's own accounts came through it as they went in (_spare_the_run_accounts).
    admin = {"Authorization": f"Bearer {_login(live_url, 'admin1')}"}
    for username, roles in (("admin1", ["admin"]), ("integration1", ["integration"])):
        account = requests.get(f"{live_url}{API}/users/{username}", headers=admin, timeout=60).json()
        assert (account["active"], account["roles"], account["must_change_password"]) == (True, roles, False)


def test_public_operations_keep_the_document_without_credentials(live_url: str, database_url: str) -> None:
    schema = _load(live_url, _examples(database_url), public=True)
    failures, scenarios = _run(schema)
    assert not failures, f"{len(failures)} contract failures:\n" + "\n".join(failures)
    assert scenarios > 3
