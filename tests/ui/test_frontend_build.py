"""The committed editor bundle (app/web/ui/static/vendor) is what frontend/build.mjs makes from the pinned
package-lock.json: the manifest names the lock's hash and every file's, each package ships its licence
text, and — where npm is installed — a fresh `npm ci` and build from the lock reproduces every file."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

FRONTEND = PROJECT_ROOT / "frontend"
VENDOR = PROJECT_ROOT / "app" / "web" / "ui" / "static" / "vendor"
MANIFEST = json.loads((VENDOR / "BUILD.json").read_text(encoding="utf-8"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): _sha(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "BUILD.json"}


def test_the_committed_bundle_was_built_from_the_committed_lock() -> None:
    assert MANIFEST["lock_sha256"] == _sha(FRONTEND / "package-lock.json")
    assert _files(VENDOR) == MANIFEST["files"]


def test_every_shipped_package_comes_with_its_licence_text() -> None:
    lock = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))
    shipped = {path.rsplit("node_modules/", 1)[-1]: info["version"] for path, info in lock["packages"].items()
               if path and not info.get("dev")}
    assert shipped == MANIFEST["packages"]
    for name, version in shipped.items():
        text = (VENDOR / "LICENSES" / f"{name.replace('/', '__')}.txt").read_text(encoding="utf-8")
        assert text.startswith(f"{name} {version} ")


def test_a_fresh_build_from_the_lock_reproduces_the_committed_files(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("rebuilding the editors needs Node.js and npm; the hashes above were still checked")
    work = tmp_path / "frontend"
    shutil.copytree(FRONTEND, work, ignore=shutil.ignore_patterns("node_modules"))
    install = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=work,
                             capture_output=True, text=True, timeout=600)
    if install.returncode != 0 and "ENOTFOUND" in install.stderr + install.stdout:
        pytest.skip(f"the npm registry is unreachable: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr[-2000:]
    out = tmp_path / "vendor"
    built = subprocess.run(["node", "build.mjs"], cwd=work, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "CONCORD_VENDOR_OUT": str(out)})
    assert built.returncode == 0, built.stderr[-2000:]
    assert _files(out) == MANIFEST["files"]
