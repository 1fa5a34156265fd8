"""An import mapping may name the case type its rows are registered as (dispute_case when it names none)."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.services.intake import import_mapping, imports
from tests.api.test_case_types_api import deploy_stall_permit
from tests.conftest import OPERATOR, Api

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


def _mapping(tmp_path: Path, case_type: str | None) -> import_mapping.Mapping:
    text = (PROJECT_ROOT / "app" / "imports" / "12345.toml").read_text(encoding="utf-8")
    if case_type is not None:
        text = f'case_type = "{case_type}"\n' + text
    path = tmp_path / "hotline.toml"
    path.write_text(text, encoding="utf-8")
    return import_mapping.load(str(path))


def test_a_mapping_names_the_case_type_its_rows_are_registered_as(app: Any, api: Api, tmp_path: Path) -> None:
    # Named another type, each row is validated against that type's start form: this export has no stall_days.
    deploy_stall_permit(api)
    other = Path(shutil.copy(DATA / "12345_sample.csv", tmp_path / "other.csv"))
    report = imports.run(OPERATOR, other, _mapping(tmp_path, "stall_permit"))
    assert report.imported == 0 and {e.field for e in report.errors} >= {"stall_days"}

    export = Path(shutil.copy(DATA / "12345_sample.csv", tmp_path / "12345_sample.csv"))
    assert _mapping(tmp_path, None).case_type == "dispute_case"
    report = imports.run(OPERATOR, export, _mapping(tmp_path, "dispute_case"))
    assert report.imported == 5
    assert {c["case_type"] for c in api.get("admin1", "/cases")["items"]} == {"dispute_case"}


def test_a_mapping_naming_an_unknown_case_type_is_refused_before_any_row(app: Any, tmp_path: Path) -> None:
    export = Path(shutil.copy(DATA / "12345_sample.csv", tmp_path / "12345_sample.csv"))
    with pytest.raises(import_mapping.MappingInvalid, match="no case type 'road_repair'"):
        imports.run(OPERATOR, export, _mapping(tmp_path, "road_repair"))
    with pytest.raises(import_mapping.MappingInvalid, match="case_type must be"):
        _mapping(tmp_path, "")
