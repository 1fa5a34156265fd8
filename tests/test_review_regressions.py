"""Defects found in review, each pinned by a test: spreadsheet formulas in downloads, rows that do not
fit their header, non-finite amounts, JSON Lines split inside strings, dates no one means, page numbers
no database takes, a bug under a page, and a diagram drawn for the wrong process."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.diagram import DiagramError, render_svg
from app.services.intake import import_mapping, imports
from app.services.reports import exports as report_files
from tests.conftest import OPERATOR, Api

DATA = Path(__file__).resolve().parent / "data" / "imports"


def test_downloaded_cells_never_start_a_formula_or_carry_control_characters() -> None:
    table = report_files.Table("t", [("title", "标题")], [{"title": '=HYPERLINK("http://x","c")'},
                                                         {"title": "@SUM(1+1)"}, {"title": "噪音\x0b扰民"}])
    text = report_files.to_csv([table]).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and "噪音扰民" in text
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(report_files.to_xlsx([table]))).worksheets[0]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("'=")


def _import(tmp_path: Path, name: str, content: bytes | str, source: str) -> imports.ImportReport:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return imports.run(OPERATOR, path, import_mapping.load(source))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rows_that_do_not_fit_the_header_or_carry_nan_amounts_are_refused(app: Any, tmp_path: Path) -> None:
    lines = (DATA / "12345_sample.csv").read_text(encoding="utf-8").splitlines()
    header, good = lines[0], lines[1]
    cut = ",".join(good.split(",")[:4])
    report = _import(tmp_path, "x.csv", "\n".join([header, good + ",extra", cut]) + "\n", "12345")
    assert report.imported == 0 and [e.row for e in report.errors] == [2, 3]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_json_lines_are_split_at_newlines_only(app: Any, tmp_path: Path) -> None:
    first = json.loads((DATA / "110_sample.jsonl").read_text(encoding="utf-8").splitlines()[0])
    first = {key: (value + "\u2028第二段" if isinstance(value, str) and len(value) > 8 else value)
             for key, value in first.items()}
    report = _import(tmp_path, "x.jsonl", json.dumps(first, ensure_ascii=False) + "\n", "110")
    assert not [e for e in report.errors if "not JSON" in e.message]


@pytest.mark.parametrize("query", ["/reports/summary?from=9999-12-30&to=9999-12-31", "/reports/daily?date=9999-12-31",
                                   "/reports/ranking?month=9999-12", "/reports/summary?from=0001-01-01"])
def test_dates_no_one_means_are_422_not_500(api: Api, query: str) -> None:
    assert api.get("supervisor1", query, expect=422)["status"] == 422


def test_page_numbers_no_database_takes_are_clamped(api: Api) -> None:
    assert api.get("admin1", "/cases?page=99999999999999999999")["items"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_bug_under_a_page_shows_a_page_not_json(app: Any, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.intake import cases

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(cases, "list_cases", broken)
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "admin1", "password": "test-password-1", "csrf_token": token})
    response = client.get("/cases")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "boom" not in response.get_data(as_text=True)


def test_a_process_without_its_own_diagram_is_an_error_not_another_picture() -> None:
    from app.config import PROJECT_ROOT

    source = (PROJECT_ROOT / "processes" / "dispute_case.bpmn").read_text(encoding="utf-8")
    source = source.replace('<bpmn:process id="dispute_case"', '<bpmn:process id="other" isExecutable="false" />'
                            '<bpmn:process id="dispute_case"')
    assert "分流交办" in render_svg(source, process_id="dispute_case")
    with pytest.raises(DiagramError, match="other"):
        render_svg(source, process_id="other")
