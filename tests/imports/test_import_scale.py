"""A 10,000-row day, and a crash half-way: killed, rerun, every row exactly once and no half rows."""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app.config import PROJECT_ROOT
from app.services.intake import cases, import_mapping, imports
from tests.conftest import OPERATOR

HEADER = ["工单编号", "受理时间", "工单标题", "诉求内容", "诉求分类", "紧急程度", "来电人", "来电号码", "证件号码",
          "所属网格", "事发地址"]
CATEGORIES = ["邻里纠纷", "物业管理", "劳动保障", "消费维权", "婚姻家庭"]


def _export(path: Path, rows: int, bad_every: int = 0) -> Path:
    """A 12345 export; every `bad_every`-th row has an invalid phone number."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            phone = "12" if bad_every and n % bad_every == 0 else f"139{n:08d}"
            writer.writerow([f"GD2026112800{n:05d}", f"2026-11-28 {8 + n % 10:02d}:{n % 60:02d}:00",
                             f"工单 {n}", "来电人反映的事项内容。", CATEGORIES[n % 5], "一般", f"来电人{n}", phone, "",
                             f"鼓楼区-网格-{n % 40:02d}", "宁海路街道"])
    return path


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ten_thousand_rows(app: Any, tmp_path: Path) -> None:
    path = _export(tmp_path / "day.csv", 10_000, bad_every=100)
    ticks: list[int] = []
    report = imports.run(OPERATOR, path, import_mapping.load("12345"), on_start=ticks.append,
                         on_row=lambda: ticks.append(1))
    assert (report.rows, report.imported, report.invalid) == (10_000, 9_900, 100)
    assert ticks[0] == 10_000 and len(ticks) == 10_001  # the progress bar saw every row
    assert len(report.errors) == 100 and report.errors[0].row == 2  # the first data row is line 2
    assert cases.case_count() == 9_900
    again = imports.run(OPERATOR, path, import_mapping.load("12345"))
    assert (again.imported, again.already_present) == (0, 9_900)


def test_killed_half_way_leaves_whole_rows_and_a_rerun_finishes(app: Any, tmp_path: Path, database_url: str) -> None:
    rows = 300
    path = _export(tmp_path / "day.csv", rows)
    env = {**os.environ, "CONCORD_DATABASE_URL": database_url, "CONCORD_SECRET_KEY": "test"}
    command = [sys.executable, "-m", "app.cli", "import", str(path), "--source", "12345"]
    proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    seen, buffer = 0, b""
    while seen < 40:  # read the progress bar until 40 rows are done, then kill -9 in mid-stride
        chunk = proc.stderr.read1(256)  # type: ignore[attr-defined]
        assert chunk, f"the import ended early: {buffer[-500:]!r}"
        buffer += chunk
        seen = max([seen, *(int(n) for n in re.findall(rb"(\d+)/300", buffer))])
    proc.kill()
    proc.wait()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        done = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        assert seen <= done < rows
        _assert_whole(conn, done)
    finished = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True)
    assert f"{rows} rows: {rows - done} imported, {done} already present, 0 invalid" in finished.stdout
    with engine.connect() as conn:
        _assert_whole(conn, rows)
        assert conn.execute(text("SELECT count(DISTINCT external_id) FROM cases")).scalar_one() == rows
    engine.dispose()


def _assert_whole(conn: Any, count: int) -> None:
    """Each case has its applicant, its process, its open task and its registration in the audit log."""
    assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == count
    assert conn.execute(text("SELECT count(DISTINCT case_id) FROM parties")).scalar_one() == count
    assert conn.execute(text("SELECT count(*) FROM cases WHERE process_instance_id IS NULL")).scalar_one() == 0
    assert conn.execute(text("SELECT count(DISTINCT case_id) FROM tasks")).scalar_one() == count
    assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'case.registered'")).scalar_one() == count
