"""Every setting of Concord, declared once: name, default, environment variable, meaning.

`load_config(overrides)` reads the environment and applies a dict of overrides (tests pass a dict).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    key: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str


def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


SQLITE_SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")


def sqlite_synchronous(text: str) -> str:
    mode = text.strip().upper()
    if mode not in SQLITE_SYNCHRONOUS_MODES:
        raise ValueError(f"SQLite synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS_MODES)}, not {text!r}")
    return mode


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "CONCORD_DATABASE_URL",
            f"sqlite:///{PROJECT_ROOT / 'instance' / 'concord.db'}", str,
            "SQLAlchemy URL; SQLite (embedded) or postgresql:// (production, several nodes)"),
    Setting("SECRET_KEY", "CONCORD_SECRET_KEY", None, str,
            "signs API tokens and sessions; when unset, a key generated once into instance/secret_key"),
    Setting("DEMO_PASSWORD", "CONCORD_DEMO_PASSWORD", None, str,
            "password of the demo users made by `make run`; random and printed once when unset"),
    Setting("TIMEZONE", "CONCORD_TIMEZONE", "Asia/Shanghai", str,
            "the centre's time zone: API timestamps and working days are in it; storage is UTC"),
    Setting("TOKEN_TTL_SECONDS", "CONCORD_TOKEN_TTL_SECONDS", 8 * 3600, int,
            "lifetime of a login token"),
    Setting("MAX_CONTENT_LENGTH", "CONCORD_MAX_BODY_BYTES", 2 * 1024 * 1024, int,
            "largest request body accepted; larger bodies get 413"),
    Setting("MAX_ATTACHMENT_BYTES", "CONCORD_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024, int,
            "largest file attached to a case (413 beyond); its upload may exceed CONCORD_MAX_BODY_BYTES"),
    Setting("ATTACHMENT_DIR", "CONCORD_ATTACHMENT_DIR", str(PROJECT_ROOT / "instance" / "attachments"), str,
            "where attached files are kept, each under its SHA-256 (share it between the nodes)"),
    Setting("PROCESSES_DIR", "CONCORD_PROCESSES_DIR", str(PROJECT_ROOT / "processes"), str,
            "BPMN/DMN files deployed by `make run`"),
    Setting("FORMS_DIR", "CONCORD_FORMS_DIR", str(PROJECT_ROOT / "forms"), str,
            "form schemas deployed beside the processes"),
    Setting("HOST", "CONCORD_HOST", "127.0.0.1", str, "address `concord serve` listens on"),
    Setting("PORT", "CONCORD_PORT", 5000, int, "port `concord serve` listens on"),
    Setting("SQLITE_CHECKPOINT_SECONDS", "CONCORD_SQLITE_CHECKPOINT_SECONDS", 1.0, float,
            "SQLite: a background thread checkpoints the write-ahead log this often (0: each request that "
            "fills it does, as SQLite does by default)"),
    Setting("SQLITE_SYNCHRONOUS", "CONCORD_SQLITE_SYNCHRONOUS", "FULL", sqlite_synchronous,
            "SQLite: FULL syncs the write-ahead log at every commit, so a committed step survives a power loss "
            "or an OS crash; NORMAL syncs only at checkpoints (faster; the last commits before a power loss or "
            "OS crash can be lost, never by an application crash); EXTRA also syncs the directory"),
    Setting("SQLITE_BUSY_TIMEOUT_SECONDS", "CONCORD_SQLITE_BUSY_TIMEOUT_SECONDS", 30.0, float,
            "SQLite: how long a command waits for the database's one writer (another command of the process, "
            "or another process) before it gives up with 409 (retry)"),
    Setting("DB_CONNECT_TIMEOUT_SECONDS", "CONCORD_DB_CONNECT_TIMEOUT_SECONDS", 5.0, float,
            "PostgreSQL: a new connection must be made within this (libpq connect_timeout, enforced by "
            "Concord itself), and a request waits at most this long for a free connection of the pool"),
    Setting("DB_STATEMENT_TIMEOUT_MS", "CONCORD_DB_STATEMENT_TIMEOUT_MS", 30_000, int,
            "PostgreSQL statement_timeout of Concord's connections: the server cancels a statement running "
            "longer (503); 0 = no limit"),
    Setting("DB_LOCK_TIMEOUT_MS", "CONCORD_DB_LOCK_TIMEOUT_MS", 10_000, int,
            "PostgreSQL lock_timeout: a command that waited this long for a row another transaction holds "
            "gives up with 409 (retry); timer workers never wait (SKIP LOCKED); 0 = no limit"),
    Setting("DB_STALL_SECONDS", "CONCORD_DB_STALL_SECONDS", 5.0, float,
            "PostgreSQL: a statement without any answer for this long makes Concord check that the server "
            "still answers a new connection; when it does not (stopped, frozen, cut off), the request ends with "
            "503 instead of waiting"),
    Setting("DB_PROBE_TIMEOUT_SECONDS", "CONCORD_DB_PROBE_TIMEOUT_SECONDS", 0.8, float,
            "how long /health (and the stall check) waits for the database to answer SELECT 1 on a new "
            "connection (SQLite: to open the file)"),
    Setting("DB_RETRY_AFTER_SECONDS", "CONCORD_DB_RETRY_AFTER_SECONDS", 5, int,
            "Retry-After (seconds) of the 503 answers given while the database is unavailable"),
    Setting("SQL_ECHO", "CONCORD_SQL_ECHO", False, _bool, "log every SQL statement"),
    Setting("SECURE_COOKIES", "CONCORD_SECURE_COOKIES", False, _bool,
            "mark the session and language cookies Secure on every answer; they are whenever the request "
            "came over HTTPS, but behind a proxy that terminates TLS the application only sees HTTP"),
    Setting("PASSWORD_HASH_METHOD", "CONCORD_PASSWORD_HASH_METHOD", "scrypt", str,
            "werkzeug.security hash method for passwords (scrypt by default)"),
    Setting("WARNING_AT", "CONCORD_WARNING_AT", 0.8, float,
            "share of a node's time limit after which its task turns to warning (黄色预警)"),
    Setting("LISTED_AT", "CONCORD_LISTED_AT", 1.5, float,
            "share of the limit after which an overdue task is listed for supervision (挂牌督办)"),
    Setting("TIMERS_IN_PROCESS", "CONCORD_TIMERS_IN_PROCESS", True, _bool,
            "run the timer service inside the web process (off when dedicated `concord timers run` workers do)"),
    Setting("TIMER_POLL_SECONDS", "CONCORD_TIMER_POLL_SECONDS", 2.0, float,
            "how often the timer service looks for due timers (firing latency is at most about this)"),
    Setting("TIMER_BATCH", "CONCORD_TIMER_BATCH", 50, int, "due timers claimed per transaction"),
    Setting("TIMER_MAX_ATTEMPTS", "CONCORD_TIMER_MAX_ATTEMPTS", 5, int,
            "failed firings retried with back-off before the timer becomes an incident"),
    Setting("CALENDAR_CACHE_SECONDS", "CONCORD_CALENDAR_CACHE_SECONDS", 60, int,
            "how long a node reuses the calendar before re-reading it (imports on the node apply at once)"),
    Setting("DIRECTORY_CACHE_SECONDS", "CONCORD_DIRECTORY_CACHE_SECONDS", 30, int,
            "how long a node reuses the centres and groups before re-reading them (changes on the node apply "
            "at once)"),
    Setting("AUTH_REVOCATION_SECONDS", "CONCORD_AUTH_REVOCATION_SECONDS", 5.0, float,
            "how long another server process may still accept a login or key revoked elsewhere (logout, "
            "deactivation, password change or reset, role change); the process that revoked it refuses it "
            "at once; 0 checks every request against the database"),
    Setting("LOGIN_FAILURES_ALLOWED", "CONCORD_LOGIN_FAILURES_ALLOWED", 5, int,
            "failed logins of one username within the window after which its logins answer 429"),
    Setting("LOGIN_FAILURE_WINDOW_SECONDS", "CONCORD_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, int,
            "the window over which failed logins of one username are counted"),
    Setting("PUBLIC_LOOKUPS_PER_MINUTE", "CONCORD_PUBLIC_LOOKUPS_PER_MINUTE", 10, int,
            "public progress lookups (/progress, GET /public/progress) one client address may make per minute "
            "(per server process) before they answer 429"),
    Setting("TRUSTED_PROXIES", "CONCORD_TRUSTED_PROXIES", 0, int,
            "reverse proxies in front of the server that append to X-Forwarded-For: the per-address limits count "
            "the address the outermost of them saw (0: the connection's own address)"),
    Setting("WORKFLOW_CACHE_SIZE", "CONCORD_WORKFLOW_CACHE_SIZE", 2000, int,
            "live workflows kept in memory per process; checked against the row version on every use"),
)


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = os.environ.get(setting.env)
        config[setting.key] = setting.parse(raw) if raw not in (None, "") else setting.default
    config.update(overrides or {})
    return config
