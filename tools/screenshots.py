"""Regenerate the README's screenshots (docs/*.png) by running the browser journeys with Chromium.

    .venv/bin/python tools/screenshots.py      (or: make screenshots)
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    env = dict(os.environ, CONCORD_SCREENSHOT_DIR=str(docs))
    journeys = ["tests/ui/test_browser.py", "tests/ui/test_workbench_browser.py", "tests/ui/test_mediators_day.py"]
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *journeys], cwd=ROOT,
                           env=env)


if __name__ == "__main__":
    raise SystemExit(main())
