"""`concord import`: the three feeds' sample exports, row errors next to the input, idempotence, encodings."""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.errors import ConcordError
from app.services.intake import cases, import_mapping, imports
from tests.conftest import OPERATOR

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


def _copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(DATA / name, tmp_path / name))


def _run(path: Path, source: str) -> imports.ImportReport:
    return imports.run(OPERATOR, path, import_mapping.load(source))


def _report_rows(report: imports.ImportReport) -> list[list[str]]:
    assert report.error_report is not None
    with open(report.error_report, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_12345_export_imports_valid_rows_and_reports_the_others(app: Any, tmp_path: Path) -> None:
    report = _run(_copy(tmp_path, "12345_sample.csv"), "12345")
    assert (report.rows, report.imported, report.already_present, report.invalid) == (8, 5, 0, 3)
    rows = _report_rows(report)
    assert rows[0] == ["row", "field", "message"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("5", "来电号码"), ("7", "受理时间"), ("9", "诉求分类")]
    assert "in the future" in rows[2][2] and "停车管理" in rows[3][2]
    assert report.error_report == str(tmp_path / "12345_sample.csv.errors.csv")
    assert cases.case_count() == 5


def test_imported_case_keeps_the_source_and_its_reception_time(app: Any, api: Any, tmp_path: Path) -> None:
    _run(_copy(tmp_path, "12345_sample.csv"), "12345")
    found = api.get("supervisor1", "/cases?source=hotline_12345&q=外卖")["items"]
    assert [(c["external_id"], c["category"], c["urgency"]) for c in found] == [
        ("GD20261127000126", "gig_labor", "urgent")]
    case = api.get("admin1", f"/cases/{found[0]['id']}")
    assert case["received_at"] == "2026-11-27T10:02:47+08:00"  # the export's time, not the import's
    assert case["created_at"] != case["received_at"] and "受理时间" not in case["description"]
    assert case["parties"][0] == {"name": "陈磊", "role": "applicant", "phone": "13812349876",
                                  "id_number": "320106199007081237"}
    assert case["created_by"] == "import:12345" and case["active_tasks"]


def test_the_same_file_twice_imports_nothing_new(app: Any, tmp_path: Path) -> None:
    path = _copy(tmp_path, "110_sample.jsonl")
    first = _run(path, "110")
    second = _run(path, "110")
    assert (first.imported, first.invalid) == (3, 1)
    assert (second.imported, second.already_present, second.invalid) == (0, 3, 1)
    assert cases.case_count() == 3


def test_the_live_feed_and_the_import_share_one_key(app: Any, api: Any, tmp_path: Path) -> None:
    api.register(user="intake1", source="police_110", external_id="J3201062026112700031", category="labor")
    report = _run(_copy(tmp_path, "110_sample.jsonl"), "110")
    assert (report.imported, report.already_present) == (2, 1)


def test_gbk_petition_export_is_read_and_a_utf8_only_mapping_refuses_it(app: Any, tmp_path: Path) -> None:
    path = _copy(tmp_path, "petition_sample.csv")
    report = _run(path, "petition")
    assert (report.imported, report.invalid) == (3, 1)
    assert [r[1] for r in _report_rows(report)[1:]] == ["问题类别"]
    page = cases.list_cases(OPERATOR, q="宅基地")
    assert [c["title"] for c in page["items"]] == ["宅基地界址争议"]
    gbk_lines = path.with_suffix(".jsonl")
    gbk_lines.write_bytes('{"jqbh": "J1", "bjrxm": "张三"}\n'.encode("gbk"))
    with pytest.raises(imports.ImportFileInvalid, match=r"not readable as utf-8-sig \(byte 0x\w\w on line 1\)"):
        _run(gbk_lines, "110")


def test_unreadable_files_and_bad_mappings_are_clear_errors(app: Any, tmp_path: Path) -> None:
    (tmp_path / "export.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(imports.ImportFileInvalid, match="unknown format '.xls'"):
        _run(tmp_path / "export.xls", "12345")
    other = tmp_path / "other.csv"
    other.write_text("编号,时间,标题\nA1,2026-11-27 08:00:00,x\n", encoding="utf-8")
    with pytest.raises(imports.ImportFileInvalid, match="names columns the file does not have: 工单编号, 受理时间"):
        _run(other, "12345")
    with pytest.raises(import_mapping.MappingInvalid, match="shipped: 110, 12345, petition"):
        import_mapping.load("hotline")
    bad = tmp_path / "bad.toml"
    bad.write_text('source = "grid"\n[columns]\nexternal_id = "编号"\ncolour = "颜色"\n', encoding="utf-8")
    with pytest.raises(import_mapping.MappingInvalid, match=r"unknown fields \['colour'\].*not mapped"):
        import_mapping.load(str(bad))
    assert cases.case_count() == 0


def test_rows_that_are_not_json_objects_are_row_errors(app: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text((DATA / "110_sample.jsonl").read_text(encoding="utf-8") + '{"jqbh": \n[1, 2]\n',
                    encoding="utf-8")
    report = _run(path, "110")
    assert [(e.row, e.field) for e in report.errors][-2:] == [(5, "-"), (6, "-")]
    assert report.imported == 3


def test_cli_prints_a_summary_and_row_errors_without_a_trace(app: Any, tmp_path: Path, monkeypatch: Any,
                                                             capsys: Any, database_url: str) -> None:
    monkeypatch.setenv("CONCORD_DATABASE_URL", database_url)
    path = _copy(tmp_path, "12345_sample.csv")
    assert cli.main(["import", str(path), "--source", "12345"]) == 1
    out, err = capsys.readouterr()
    assert "8 rows: 5 imported, 0 already present, 3 invalid (not imported)" in out
    assert "12345_sample.csv.errors.csv" in err
    assert cli.main(["import", str(path), "--source", "12345"]) == 1
    assert "0 imported, 5 already present" in capsys.readouterr().out
    assert cli.main(["import", str(tmp_path / "missing.csv"), "--source", "12345"]) == 1
    assert cli.main(["import", str(path), "--source", "nowhere"]) == 1
    err = capsys.readouterr().err
    assert "error: cannot read" in err and "no import mapping 'nowhere'" in err and "Traceback" not in err


def test_a_clean_rerun_removes_the_old_error_report(app: Any, tmp_path: Path) -> None:
    path = _copy(tmp_path, "12345_sample.csv")
    assert _run(path, "12345").error_report
    rows = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(rows[:4]) + "\n", encoding="utf-8")  # header and three good rows
    assert _run(path, "12345").error_report is None
    assert not (tmp_path / "12345_sample.csv.errors.csv").exists()


def test_duplicates_are_flagged_during_import(app: Any, api: Any, tmp_path: Path) -> None:
    api.register(category="neighbor", parties=[{"name": "王秀英", "role": "applicant", "phone": "13912345678"}])
    _run(_copy(tmp_path, "12345_sample.csv"), "12345")
    imported = cases.list_cases(OPERATOR, q="楼上漏水")["items"][0]
    assert [d["matched_on"] for d in api.get("admin1", f"/cases/{imported['id']}")["possible_duplicates"]] == [
        "phone"]


def test_errors_are_concord_errors() -> None:
    assert issubclass(imports.ImportFileInvalid, ConcordError)
    assert issubclass(import_mapping.MappingInvalid, ConcordError)


def test_reports_count_imported_work_orders_on_the_day_the_source_received_them(app: Any, api: Any, client: Any,
                                                                                 tmp_path: Path) -> None:
    api.register(source="walk_in")  # received today, 2026-12-01, at the window
    _run(_copy(tmp_path, "12345_sample.csv"), "12345")  # 5 valid work orders received on 2026-11-27

    def received(day: str, group_by: str = "source") -> dict[str, int]:
        summary = api.get("supervisor1", f"/reports/summary?from={day}&to={day}&group_by={group_by}")
        return {item["key"]: item["received"] for item in summary["items"]}

    assert received("2026-11-27") == {"hotline_12345": 5}
    assert received("2026-12-01") == {"walk_in": 1}
    daily = api.get("supervisor1", "/reports/daily?date=2026-11-27")
    assert sorted(c["external_id"] for c in daily["new"]["items"]) == [
        "GD20261127000101", "GD20261127000117", "GD20261127000126", "GD20261127000144", "GD20261127000160"]
    assert {c["received_at"][:10] for c in daily["new"]["items"]} == {"2026-11-27"}
    assert {c["created_at"][:10] for c in daily["new"]["items"]} == {"2026-12-01"}
    sheet = client.get("/api/v1/reports/daily.csv?date=2026-11-27", headers=api.headers("supervisor1"))
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    header = next(row for row in rows if "受理时间" in row)
    first = rows[rows.index(header) + 1]
    assert first[header.index("受理时间")].startswith("2026-11-27") and first[header.index("登记时间")].startswith(
        "2026-12-01")
