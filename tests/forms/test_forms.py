"""Form validation: Chinese ID numbers and phones, undeclared fields, readable field paths."""
from __future__ import annotations

import json

import pytest

from app.config import PROJECT_ROOT
from app.forms import check_schema_file, validate_submission
from app.forms.formats import is_id_number, is_phone

REGISTER = json.loads((PROJECT_ROOT / "forms" / "register_case.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("number, ok", [
    ("11010519491231002X", True), ("11010519491231002x", True), ("110105194912310021", False),
    ("110105194913310028", False), ("1101051949123100", False), ("ABCDEFGHIJKLMNOPQR", False)])
def test_id_numbers_need_a_valid_date_and_check_character(number: str, ok: bool) -> None:
    assert is_id_number(number) is ok


@pytest.mark.parametrize("phone, ok", [("13800138000", True), ("010-12345678", True), ("0571-8888888", True),
                                       ("12345", True), ("12", False), ("23800138000", False)])
def test_phone_numbers(phone: str, ok: bool) -> None:
    assert is_phone(phone) is ok


def test_nested_errors_have_paths_and_bilingual_messages() -> None:
    errors = validate_submission(REGISTER, {"title": "x", "description": "yy", "source": "walk_in",
                                            "parties": [{"name": "A", "role": "applicant", "phone": "1"}]})
    by_field = {e.field: e.message for e in errors}
    assert "parties[0].phone" in by_field and "title" in by_field


def test_every_shipped_form_is_a_valid_schema() -> None:
    for path in (PROJECT_ROOT / "forms").glob("*.json"):
        value, problems = check_schema_file(path.name, path.read_bytes())
        assert value is not None and problems == [], path.name


def test_broken_form_file_reports_its_line() -> None:
    value, [problem] = check_schema_file("x.schema.json", b'{\n "type": "object",\n "properties": {,}\n}')
    assert value is None and problem.line == 3


def test_non_object_submission_is_refused() -> None:
    assert validate_submission(REGISTER, ["not", "an", "object"])[0].field == ""
