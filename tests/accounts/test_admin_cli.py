"""`concord users|groups|centres`: administering a centre from the command line."""
from __future__ import annotations

import csv
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from app import cli
from tests.conftest import Api


@pytest.fixture
def concord(app: Any, monkeypatch: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("CONCORD_DATABASE_URL", database_url)

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_centres_groups_and_users_are_added_and_listed(concord: Any, api: Api) -> None:
    assert concord("centres", "add", "xinan", "--name", "西南镇综治中心", "--parent", "county")[0] == 0
    code, out, _ = concord("centres", "list")
    assert code == 0 and "county  示范县综治中心" in out and "  xinan  西南镇综治中心" in out
    assert concord("groups", "add", "grid_office", "--name", "网格办", "--kind", "department",
                   "--centre", "xinan")[0] == 0
    assert "grid_office" in concord("groups", "list")[1]
    assert concord("users", "add", "grid1", "--name", "网格员一", "--roles", "handler", "--groups", "grid_office",
                   "--password", "grid-password-1")[0] == 0
    code, out, _ = concord("users", "list", "--search", "grid")
    assert code == 0 and "grid1" in out and "groups=grid_office" in out
    assert api.client.post("/api/v1/auth/login", json={"username": "grid1", "password": "grid-password-1"}
                           ).status_code == 200


def test_bad_input_is_a_readable_error_without_a_trace(concord: Any) -> None:
    code, _, err = concord("users", "add", "x1", "--name", "某", "--groups", "nowhere", "--password", "long-enough-1")
    assert code == 1 and "unknown groups: nowhere" in err and "Traceback" not in err
    code, _, err = concord("groups", "add", "mediation", "--name", "重复", "--kind", "mediation", "--centre", "county")
    assert code == 1 and "exists already" in err
    code, _, err = concord("users", "disable", "admin1")
    assert code == 1 and "last active administrator" in err


def test_disabling_a_user_ends_their_access(concord: Any, api: Api) -> None:
    assert concord("users", "disable", "labor1")[0] == 0
    assert api.client.post("/api/v1/auth/login", json={"username": "labor1", "password": "test-password-1"}
                           ).status_code == 401


def _write_staff(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["username", "display_name", "roles", "groups", "password"])
        writer.writerows(rows)


def test_staff_import_creates_updates_and_reports_rows_and_is_idempotent(concord: Any, api: Api,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    _write_staff(path, [
        ["window2", "窗口二", "intake", "intake", "window-password-2"],
        ["mediator2", "调解员二", "handler", "mediation;family", ""],
        ["mediator1", "人民调解员（城关）", "handler", "mediation", ""],  # an existing account: renamed
        ["bad user", "坏", "handler", "mediation", ""],
        ["ghost", "幽灵", "handler", "nowhere", ""],
        ["wizard", "巫师", "wizard", "mediation", ""],
    ], encoding="gb18030")
    code, out, err = concord("users", "import", str(path))
    assert code == 1
    assert "6 rows: 2 created, 1 updated, 0 unchanged, 3 invalid" in out
    errors = list(csv.DictReader((tmp_path / "staff.csv.errors.csv").open(encoding="utf-8-sig")))
    assert [(e["row"], e["field"]) for e in errors] == [("5", "username"), ("6", "groups"), ("7", "roles")]
    passwords = tmp_path / "staff.csv.passwords.csv"
    assert stat.S_IMODE(os.stat(passwords).st_mode) == 0o600
    one_time = {r["username"]: r["password"] for r in csv.DictReader(passwords.open(encoding="utf-8-sig"))}
    assert set(one_time) == {"mediator2"}
    login = api.client.post("/api/v1/auth/login", json={"username": "mediator2", "password": one_time["mediator2"]})
    assert login.get_json()["must_change_password"] is True
    assert api.get("admin1", "/users/mediator1")["display_name"] == "人民调解员（城关）"
    code, out, _ = concord("users", "import", str(path))
    assert "0 created, 0 updated, 3 unchanged, 3 invalid" in out
