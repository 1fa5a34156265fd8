"""Formats that Chinese case data needs and JSON Schema does not ship: mobile/landline phone numbers and
resident ID numbers (GB 11643-1999, with its ISO 7064 MOD 11-2 check character)."""
from __future__ import annotations

import re
from datetime import date

from jsonschema import FormatChecker

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|12345|110)$")
_ID = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

checker = FormatChecker()


@checker.checks("cn-phone")
def is_phone(value: object) -> bool:
    return not isinstance(value, str) or bool(_PHONE.match(value))


@checker.checks("cn-id-number")
def is_id_number(value: object) -> bool:
    if not isinstance(value, str):
        return True
    value = value.upper()
    if not _ID.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17]


@checker.checks("date")
def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
