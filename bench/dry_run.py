"""How long the designer's dry run takes on the shipped routes (processes/ and forms/): the walk validate
and deploy do before a version is accepted. No database: the dry run never touches one.

    .venv/bin/python bench/dry_run.py [--repeat 5]

Prints paths, engine steps, coverage and the seconds of each run, then the median.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from app.engine.loader import parse_bundle
    from app.forms import check_schema_file
    from app.services.designer import dry_run

    files = {p.name: p.read_bytes() for d in ("processes", "forms") for p in sorted((ROOT / d).iterdir())
             if p.suffix in (".bpmn", ".dmn", ".json")}
    forms = {name: form for name in files if name.endswith(".json")
             for form in [check_schema_file(name, files[name])[0]] if form is not None}
    processes = parse_bundle(files, set(forms))
    read = dry_run.read_names([content for name, content in files.items() if name.endswith((".bpmn", ".dmn"))])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    times, cpu = [], []
    for _ in range(args.repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = dry_run.run(processes, forms, {}, read)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        for walk in result["processes"]:
            print(f"  {walk['key']}: {walk['paths']} paths, {walk['steps']} steps, {walk['reached']}/{walk['elements']}"
                  f" elements reached, truncated={walk['truncated']}; {times[-1]:.2f} s ({cpu[-1]:.2f} s CPU)")
    print(f"median {statistics.median(times):.2f} s ({statistics.median(cpu):.2f} s CPU) over {args.repeat} runs; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
