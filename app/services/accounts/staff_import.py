"""Bulk import of a centre's staff from a CSV file (`concord users import FILE.csv`).

Columns: username, display_name, roles and groups (several separated by ";" or "、"), and optionally
password. Each row is one transaction. A new account without a password gets a one-time password,
written to FILE.passwords.csv (readable by the owner only), that must be changed at the first login.
An existing account takes the row's name, roles and groups (its password stays); a row that changes
nothing writes nothing, so the same file imported twice changes nothing the second time. Rows that fail
are listed, with the file line, in FILE.errors.csv, like the case import's.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import ConcordError, NotFound, ValidationFailed
from app.services.accounts import users
from app.services.kernel.principals import Principal

COLUMNS = ("username", "display_name", "roles", "groups")
_SPLIT = re.compile(r"[;；、,，]")


class StaffFileInvalid(ConcordError):
    status, title, slug = 422, "The staff file cannot be read", "staff-file-invalid"


@dataclass
class StaffImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, message)
    error_report: str | None = None
    password_report: str | None = None


def _decode(content: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StaffFileInvalid(f"{name} is neither UTF-8 nor GBK text")


def _items(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text or "") if part.strip()]


def run(principal: Principal, path: Path) -> StaffImportReport:
    principal.require_role("admin")
    reader = csv.DictReader(io.StringIO(_decode(path.read_bytes(), path.name)))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise StaffFileInvalid(f"{path.name} lacks the columns {', '.join(missing)} "
                               f"(expected: {', '.join(COLUMNS)}, password optional)")
    report, passwords = StaffImportReport(), []
    for row in reader:
        report.rows += 1
        line = reader.line_num
        try:
            outcome, password = _import_row(principal, row)
        except ValidationFailed as exc:
            report.invalid += 1
            report.errors += [(line, e.field, str(e.message)) for e in exc.errors] or [(line, "", exc.detail)]
            continue
        except ConcordError as exc:  # a username taken meanwhile, and the like
            report.invalid += 1
            report.errors.append((line, "username", exc.detail))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        if password:
            passwords.append((row["username"].strip(), password))
    report.error_report = _write(path, ".errors.csv", ["row", "field", "message"], report.errors)
    report.password_report = _write(path, ".passwords.csv", ["username", "password"], passwords)
    return report


def _import_row(principal: Principal, row: dict[str, str]) -> tuple[str, str | None]:
    username = (row.get("username") or "").strip()
    body = {"username": username, "display_name": (row.get("display_name") or "").strip(),
            "roles": _items(row.get("roles", "")), "groups": _items(row.get("groups", ""))}
    try:
        existing: users.UserItem | None = users.get_user(principal, username)
    except NotFound:
        existing = None
    if existing is None:
        given = (row.get("password") or "").strip()
        password = given or secrets.token_urlsafe(9)
        users.create_user(principal, {**body, "password": password}, must_change_password=not given)
        return "created", None if given else password
    wanted = {"display_name": body["display_name"], "roles": sorted(set(body["roles"])),
              "groups": sorted(set(body["groups"]))}
    if all(existing[k] == v for k, v in wanted.items()):  # type: ignore[literal-required]
        return "unchanged", None
    users.update_user(principal, username, wanted)
    return "updated", None


def _write(path: Path, suffix: str, header: list[str], rows: Sequence[tuple[object, ...]]) -> str | None:
    target = path.with_name(path.name + suffix)
    if not rows:
        target.unlink(missing_ok=True)
        return None
    # Passwords are secrets: the file is the owner's alone from its creation on.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(target)
