"""Column mappings of the intake feeds' daily exports (app/imports/*.toml), and turning one exported row
into a registration body. Pure functions: reading files and registering is app.services.intake.imports."""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.errors import ConcordError, FieldError
from app.forms.formats import is_id_number, is_phone

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "imports"
# The case fields an export can fill, and those every row must have.
FIELDS = ("external_id", "received_at", "title", "description", "request", "category", "urgency", "amount", "grid",
          "address", "applicant_name", "applicant_phone", "applicant_id_number", "respondent_name",
          "respondent_phone")
REQUIRED = ("external_id", "received_at", "title", "description", "applicant_name")
# Where the registration form reports a field, and which mapped field that is.
FORM_FIELDS = {"parties[0].name": "applicant_name", "parties[0].phone": "applicant_phone",
               "parties[0].id_number": "applicant_id_number", "parties[1].name": "respondent_name",
               "parties[1].phone": "respondent_phone", "location.grid": "grid", "location.address": "address"}


class MappingInvalid(ConcordError):
    status, title, slug = 422, "Import mapping is invalid", "import-mapping-invalid"


@dataclass
class Mapping:
    name: str
    label: str
    source: str
    columns: dict[str, str]  # case field -> column (CSV header or JSON key) in the export
    encodings: list[str] = field(default_factory=lambda: ["utf-8-sig", "gb18030"])
    date_formats: list[str] = field(default_factory=lambda: ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"])
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {export's label: our code}
    case_type: str = "dispute_case"  # the case type (a deployed process) the rows are registered as

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


def load(name_or_path: str) -> Mapping:
    """A shipped mapping by name (12345, 110, petition) or a .toml file of the same shape."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = MAPPINGS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml")))
        raise MappingInvalid(f"no import mapping {name_or_path!r} (shipped: {shipped}; or give a .toml file)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        mapping = Mapping(name=path.stem, label=data.get("label", path.stem), source=data["source"],
                          columns=dict(data["columns"]), **{k: data[k] for k in
                                                            ("encodings", "date_formats", "values", "case_type")
                                                            if k in data})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise MappingInvalid(f"{path}: {exc}") from exc
    unknown = sorted(set(mapping.columns) - set(FIELDS))
    missing = [name for name in REQUIRED if name not in mapping.columns]
    problems = ([f"unknown fields {unknown} (known: {', '.join(FIELDS)})"] if unknown else []) + (
        [f"required fields not mapped: {missing}"] if missing else [])
    if not isinstance(mapping.case_type, str) or not mapping.case_type:
        problems.append("case_type must be the key of a case type (GET /case-types)")
    if problems:
        raise MappingInvalid(f"{path}: " + "; ".join(problems))
    return mapping


def _received_at(text: str, mapping: Mapping, zone: ZoneInfo, now: datetime) -> datetime | str:
    for pattern in mapping.date_formats:
        try:
            value = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    else:
        return f"{text!r} is not a date and time like {datetime(2026, 11, 30, 9, 5).strftime(mapping.date_formats[0])}"
    value = value.replace(tzinfo=zone) if value.tzinfo is None else value
    return f"{text} is in the future" if value > now else value


def to_body(raw: dict[str, Any], mapping: Mapping, zone: ZoneInfo,
            now: datetime) -> tuple[dict[str, Any], list[FieldError]]:
    """The registration body of one exported row, or the row's errors (named by the export's columns). The
    body carries `received_at`, the export's reception time, which register() takes beside the body."""
    row = {name: str(raw.get(mapping.column(name)) or "").strip() for name in mapping.columns}
    errors = [FieldError(mapping.column(name), "is empty") for name in REQUIRED if not row.get(name)]

    def fail(name: str, message: str) -> None:
        errors.append(FieldError(mapping.column(name), message))

    for name, table in mapping.values.items():
        if row.get(name):
            if row[name] not in table:
                fail(name, f"unknown value {row[name]!r} (known: {', '.join(table)})")
            row[name] = table.get(row[name], row[name])
    for name in ("applicant_phone", "respondent_phone"):
        row[name] = row.get(name, "").replace(" ", "")
        if row[name] and not is_phone(row[name]):
            fail(name, f"{row[name]!r} is not a mobile (11 digits) or landline number")
    row["applicant_id_number"] = row.get("applicant_id_number", "").upper()
    if row["applicant_id_number"] and not is_id_number(row["applicant_id_number"]):
        fail("applicant_id_number", "not a valid resident ID number (18 characters, birth date, check digit)")
    received = _received_at(row["received_at"], mapping, zone, now) if row.get("received_at") else None
    if isinstance(received, str):
        fail("received_at", received)
    amount = None
    if row.get("amount"):
        try:
            amount = float(row["amount"].replace(",", ""))
        except ValueError:
            amount = None
        if amount is None or not math.isfinite(amount):
            fail("amount", f"{row['amount']!r} is not an amount in yuan")
    if errors:
        return {}, errors
    assert isinstance(received, datetime)
    applicant = {"name": row["applicant_name"], "role": "applicant", "phone": row.get("applicant_phone"),
                 "id_number": row.get("applicant_id_number")}
    parties = [applicant] + ([{"name": row["respondent_name"], "role": "respondent",
                               "phone": row.get("respondent_phone")}] if row.get("respondent_name") else [])
    # The export's reception time is the case's (registration stamps its own time beside it).
    body = {"case_type": mapping.case_type, "source": mapping.source, "external_id": row["external_id"],
            "received_at": received,
            "title": row["title"], "description": row["description"], "request": row.get("request"),
            "category": row.get("category"), "urgency": row.get("urgency"), "amount": amount,
            "parties": [{k: v for k, v in p.items() if v} for p in parties],
            "location": {k: row[k] for k in ("grid", "address") if row.get(k)}}
    return {k: v for k, v in body.items() if v not in (None, "", {})}, []


def form_errors(errors: list[FieldError], mapping: Mapping) -> list[FieldError]:
    """The registration form's field paths renamed to the export's columns."""
    return [FieldError(mapping.column(FORM_FIELDS.get(e.field, e.field)), e.message) for e in errors]
