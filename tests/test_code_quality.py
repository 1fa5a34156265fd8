"""The code stays ruff-clean and mypy-clean (architecture.md, Habits)."""
from __future__ import annotations

import subprocess
import sys

from app.config import PROJECT_ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=300)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "app", "tests", "bench", "tools", "migrations")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_app() -> None:
    result = _run("mypy", "app")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_postgres_marker_selects_the_tests_that_run_on_postgresql() -> None:
    """`make test PYTEST_ARGS="-m postgres"` runs the PostgreSQL tests (it once selected none: exit 5)."""
    result = _run("pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "-m", "postgres")
    assert result.returncode == 0, result.stdout + result.stderr
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    strays = [line for line in collected if not any(word in line for word in ("postgresql", "outage", "drill"))]
    assert collected and strays == []
