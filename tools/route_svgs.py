"""Draw the shipped routes' diagrams as SVG files for docs/routes.md, with Concord's own renderer.

Run: python tools/route_svgs.py   (writes docs/routes/<process>.svg for every process in processes/*.bpmn)
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.diagram import process_ids, render_svg  # noqa: E402


def main() -> None:
    out = ROOT / "docs" / "routes"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        source = path.read_text(encoding="utf-8")
        for process_id in process_ids(source):
            (out / f"{process_id}.svg").write_text(render_svg(source, process_id=process_id, id_prefix=process_id),
                                                   encoding="utf-8")
            print(f"docs/routes/{process_id}.svg")


if __name__ == "__main__":
    main()
