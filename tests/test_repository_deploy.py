"""`concord deploy` of the repository's files (as `make run` does) never supersedes a version a designer
deployed from the pages; the designer downloads the latest deployed files to commit them."""
from __future__ import annotations

import io
import os
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import cli, clock
from app.config import PROJECT_ROOT
from tests.api.test_case_types_api import upload
from tests.conftest import BUNDLE, Api


@pytest.fixture
def concord(app: Any, api: Api, monkeypatch: pytest.MonkeyPatch, database_url: str,
            capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("CONCORD_DATABASE_URL", database_url)

    def run(*argv: str) -> tuple[int, str]:
        code = cli.main(list(argv))
        api._tokens.clear()  # the command's own app signs tokens with its own secret: log in again
        out, err = capsys.readouterr()
        return code, out + err
    return run


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A copy of the repository's routes (processes/ and forms/)."""
    for folder in ("processes", "forms"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


def _written(repository: Path, at: datetime) -> None:
    for path in repository.rglob("*.*"):
        os.utime(path, (at.timestamp(), at.timestamp()))


def _versions(api: Api) -> list[tuple[int, bool, str]]:
    return [(d["version"], d["is_latest"], d["deployed_by"])
            for d in api.get("designer1", "/process-definitions") if d["key"] == "dispute_case"]


def _deploy(concord: Any, repository: Path, *extra: str) -> str:
    code, out = concord("deploy", str(repository / "processes"), str(repository / "forms"), *extra)
    assert code == 0, out
    return out


def test_redeploying_the_repository_after_a_designer_deployment_keeps_the_designers_version_latest(
        concord: Any, api: Api, repository: Path, frozen_clock: clock.FrozenClock) -> None:
    _written(repository, clock.now() - timedelta(days=1))
    assert "unchanged, already deployed as: dispute_case v1" in _deploy(concord, repository)

    frozen_clock.advance(timedelta(hours=1))
    edited = {**BUNDLE, "dispute_case.bpmn": BUNDLE["dispute_case.bpmn"] + b"\n<!-- designer's v2 -->\n"}
    api.post("designer1", "/process-definitions", 201, **upload(edited))
    assert _versions(api)[0] == (2, True, "designer1")

    # make run again: the repository's files are v1's, so nothing is deployed and v2 stays the latest.
    frozen_clock.advance(timedelta(hours=1))
    out = _deploy(concord, repository)
    assert "dispute_case v1" in out and "v2" in out and "stays the latest" in out and "保持为最新" in out
    assert [v for v, latest, _ in _versions(api) if latest] == [2]

    # Files changed in the repository do not replace the designer's version either.
    form = repository / "forms" / "triage.uischema.json"
    form.write_text(form.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    out = _deploy(concord, repository)
    assert "deployed from the pages by designer1" in out and "--force" in out and "files.zip" in out
    assert [v for v, latest, _ in _versions(api) if latest] == [2] and len(_versions(api)) == 2

    # Forced, they deploy as a new version, as the operator asked.
    assert "deployed: dispute_case v3" in _deploy(concord, repository, "--force")
    assert _versions(api)[0] == (3, True, "cli")


def test_the_designer_downloads_the_latest_files_and_the_committed_copy_deploys_nothing_new(
        concord: Any, api: Api, repository: Path, frozen_clock: clock.FrozenClock) -> None:
    frozen_clock.advance(timedelta(hours=1))
    edited = {**BUNDLE, "triage.uischema.json": BUNDLE["triage.uischema.json"] + b"\n"}
    api.post("designer1", "/process-definitions", 201, **upload(edited))
    response = api.client.get("/api/v1/process-definitions/dispute_case/files.zip",
                              headers=api.headers("designer1"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "dispute_case-v2.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        downloaded = {name: archive.read(name) for name in archive.namelist()}
    assert downloaded == edited
    api.get("intake1", "/process-definitions/dispute_case/files.zip", 403)
    api.get("designer1", "/process-definitions/nothing_here/files.zip", 404)

    # Committed to the repository (written now): deploying them is a no-op, v2 stays.
    (repository / "forms" / "triage.uischema.json").write_bytes(downloaded["triage.uischema.json"])
    assert "unchanged, already deployed as: dispute_case v2" in _deploy(concord, repository)
    assert [v for v, latest, _ in _versions(api) if latest] == [2] and len(_versions(api)) == 2


def test_repository_files_newer_than_the_designers_deployment_still_do_not_replace_it(
        concord: Any, api: Api, repository: Path, frozen_clock: clock.FrozenClock) -> None:
    """A file's time says nothing of its content: a fresh clone is newer than every deployment."""
    edited = {**BUNDLE, "dispute_case.bpmn": BUNDLE["dispute_case.bpmn"] + b"\n"}
    api.post("designer1", "/process-definitions", 201, **upload(edited))
    form = repository / "forms" / "triage.uischema.json"
    form.write_text(form.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    _written(repository, clock.now() + timedelta(minutes=5))  # written after the designer deployed v2
    assert "--force" in _deploy(concord, repository)
    assert [v for v, latest, _ in _versions(api) if latest] == [2]
    assert "deployed: dispute_case v3" in _deploy(concord, repository, "--force")

