"""`make bench`: every performance figure of issues 15 and 25 (the fleet, the start-up), one table, and
docs/benchmarks.md (written by a full run; --quick runs fewer repetitions and writes no doc
unless --doc is given). Run as root: the fleet plays hosts.

  python -m tests.bench.suite [--quick] [--only wire,fleet,...] [--doc PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from tests.bench import bench_queue, dashboard, fleet, ingest, machine, report, start, store, tui, wire
from tests.bench.report import Figure

ROOT = Path(__file__).resolve().parents[2]
# start, TUI and store first: they need no played host, and run before the fleet has warmed anything
SECTIONS = {"start": start, "tui": tui, "dashboard": dashboard, "store": store, "queue": bench_queue,
            "ingest": ingest, "wire": wire, "fleet": fleet}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.suite")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (while developing)")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--doc", type=Path, help="where to write the Markdown (default: docs/benchmarks.md "
                                                 "on a full run of every section, none otherwise)")
    args = parser.parse_args()
    chosen = [s for s in args.only.split(",") if s] or list(SECTIONS)
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if os.geteuid() != 0:
        parser.error("the bench plays fleet hosts: run it as root (make bench does)")
    doc = args.doc or (ROOT / "docs" / "benchmarks.md" if not args.quick and not args.only else None)

    about = machine.describe()
    about["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    figures: list[Figure] = []
    notes: list[str] = []
    failed = False
    began = time.monotonic()
    for name in chosen:
        print(f"[{time.monotonic() - began:6.0f} s] {name}…", flush=True)
        try:
            found, said = SECTIONS[name].measure(args.quick)
            figures += found
            notes += said
        except Exception as exc:  # a section that breaks is shown as such, the others still count
            failed = True
            traceback.print_exc()
            figures.append(Figure(name, "(the whole section)", None, "", limit=f"the bench failed: {exc}"))
    about["bench wall time"] = f"{time.monotonic() - began:.0f} s" + (" (--quick)" if args.quick else "")
    notes.append("The machine's CPUs are shared: other processes running at the same time (see the load "
                 "average) slow wall-time figures; CPU and byte counts are not affected.")
    print()
    print(report.table(figures))
    if doc:
        command = "make bench" if not args.quick else "python -m tests.bench.suite --quick"
        report.write(doc, report.markdown(figures, about, notes, command))
        print(f"\nwrote {doc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
