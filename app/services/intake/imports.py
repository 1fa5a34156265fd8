"""Bulk import of a day's export from the 12345 hotline, 110 dispatch or the petition office.

Every valid row is registered through app.services.intake.cases.register, in its own transaction, so a crash
half-way leaves whole cases or nothing of a row; rerunning skips what is there already (idempotent by
(source, external_id), the same key the live feeds use) and finishes the job. Invalid rows are not
imported; their errors (row, column, message) go to FILE.errors.csv next to the input.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import clock
from app.database import db
from app.errors import ConcordError, EngineFailure, FieldError, FormInvalid, ValidationFailed
from app.models import Case
from app.runtime import settings
from app.services.intake import cases, import_mapping
from app.services.intake.import_mapping import Mapping, MappingInvalid
from app.services.kernel.principals import Principal

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_CHUNK = 500  # external ids looked up per query when finding what is already imported


class ImportFileInvalid(ConcordError):
    status, title, slug = 422, "Import file cannot be read", "import-file-invalid"


@dataclass
class RowError:
    row: int  # line of the file where the record starts (the header is line 1)
    field: str
    message: str


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_report: str | None = None


def decode(content: bytes, mapping: Mapping, name: str) -> str:
    """The text in the first of the mapping's encodings that decodes it strictly."""
    for encoding in mapping.encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
        except LookupError as exc:
            raise MappingInvalid(f"mapping {mapping.name}: unknown encoding {encoding!r}") from exc
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        raise ImportFileInvalid(f"{name}: not readable as {' or '.join(mapping.encodings)} (byte "
                                f"0x{content[exc.start]:02x} on line {line}); save it in one of them") from None
    raise ImportFileInvalid(f"{name}: not readable as {' or '.join(mapping.encodings)}")


def records(text: str, kind: str, mapping: Mapping, name: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, record) pairs, or (line, problem) for a line that is not a record."""
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        missing = [column for column in mapping.columns.values() if column not in header]
        if missing:
            raise ImportFileInvalid(f"{name}: the mapping {mapping.name} names columns the file does not have: "
                                    f"{', '.join(missing)} (header: {', '.join(header) or 'empty'})")
        line = reader.line_num
        for record in reader:
            if None in record or any(value is None for value in record.values()):
                # DictReader keeps extra fields under None and fills missing ones with None: an unquoted
                # comma or a cut line would otherwise shift or drop data silently.
                yield line + 1, f"{len(header)} columns expected, the row has a different number"
            else:
                yield line + 1, record
            line = reader.line_num
        return
    # Lines end at \n only: str.splitlines() would also break inside a JSON string at U+2028 and kin.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, f"not JSON: {exc.msg} at column {exc.colno}"
            continue
        yield (number, value) if isinstance(value, dict) else (number, "not a JSON object")


def _already_imported(source: str, external_ids: list[str]) -> set[str]:
    found: set[str] = set()
    with db.transaction() as session:
        for n in range(0, len(external_ids), _CHUNK):
            chunk = external_ids[n:n + _CHUNK]
            found.update(session.scalars(select(Case.external_id).where(Case.source == source,
                                                                        Case.external_id.in_(chunk))))
    return found


def run(principal: Principal, path: Path, mapping: Mapping, *,
        on_start: Callable[[int], None] | None = None, on_row: Callable[[], None] | None = None) -> ImportReport:
    """Import `path` with `mapping`; `on_start(total)` and `on_row()` drive a progress bar."""
    principal.require_role("admin")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ImportFileInvalid(f"{path.name}: unknown format {path.suffix!r}; use .csv or .jsonl (JSON Lines)")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ImportFileInvalid(f"cannot read {path}: {exc.strerror}") from exc
    try:  # every row would be refused for it: say it once
        cases.registration_form(mapping.case_type)
    except ValidationFailed as exc:
        raise MappingInvalid(f"mapping {mapping.name}: there is no case type {mapping.case_type!r} "
                             "(a deployed process whose start event names a form)") from exc
    rows = list(records(decode(content, mapping, path.name), kind, mapping, path.name))
    report = ImportReport(file=str(path), rows=len(rows))
    feed = Principal(f"import:{mapping.name}", f"批量导入（{mapping.label}）", frozenset({"integration"}),
                     frozenset())
    column = mapping.column("external_id")
    present = _already_imported(mapping.source, [str(r.get(column)).strip() for _, r in rows
                                                 if isinstance(r, dict) and r.get(column)])
    zone, now = ZoneInfo(settings.get("TIMEZONE", "Asia/Shanghai")), clock.now()
    if on_start:
        on_start(len(rows))
    for line, record in rows:
        errors = _import_row(feed, record, mapping, zone, now, present, report)
        if errors:
            report.invalid += 1
            report.errors += [RowError(line, e.field, e.message) for e in errors]
        if on_row:
            on_row()
    report.error_report = _write_errors(path, report.errors)
    return report


def _import_row(feed: Principal, record: dict[str, Any] | str, mapping: Mapping, zone: ZoneInfo, now: Any,
                present: set[str], report: ImportReport) -> list[FieldError]:
    if isinstance(record, str):
        return [FieldError("-", record)]
    body, errors = import_mapping.to_body(record, mapping, zone, now)
    if errors:
        return errors
    if body["external_id"] in present:
        report.already_present += 1
        return []
    received_at = body.pop("received_at")
    try:
        _, created = cases.register(feed, body, received_at)
    except FormInvalid as exc:
        return import_mapping.form_errors(exc.errors, mapping)
    except EngineFailure as exc:  # the process failed as it started (an incident is recorded): not imported
        return [FieldError("-", exc.detail)]
    present.add(body["external_id"])
    if created:
        report.imported += 1
    else:  # the same work order twice in one file, or a live feed got there first
        report.already_present += 1
    return []


def _write_errors(path: Path, errors: list[RowError]) -> str | None:
    """FILE.errors.csv next to the input (UTF-8 with BOM for Excel); an old one goes when all is well."""
    target = path.with_name(path.name + ".errors.csv")
    if not errors:
        target.unlink(missing_ok=True)
        return None
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "field", "message"])
        writer.writerows([e.row, e.field, e.message] for e in errors)
    return str(target)
