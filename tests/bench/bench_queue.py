"""Claim throughput of the job queue: jobs claimed and finished per second on one SQLite
store by 1, 2 and 4 worker processes, each a real Runner with a stand-in job (no target).
`make bench` runs it as its `queue` section (measure()); `python -m tests.bench.bench_queue`
prints it alone.

Goal (issue 9, kept measured by issue 25): at least 200 jobs per second with 4 workers, and no
job run twice.
The clock runs from the first worker claiming to the last going idle, so interpreter start
is not counted; median of RUNS.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from core.domain.models import Host
from core.store.base import NewScanJob
from core.workspace import Workspace
from tests.bench.report import Figure

JOBS = 2000
RUNS = 3
ROOT = Path(__file__).resolve().parents[2]
SECTION = "queue"
WORKERS = (1, 2, 4)


async def fill(data: Path) -> None:
    async with await Workspace.open(data, content_dirs=[data / "none"]) as workspace:
        hosts = [await workspace.store.add_host(Host(name=f"h{n}", address="10.0.0.1")) for n in range(50)]
        await workspace.store.create_scan_jobs(
            [NewScanJob(hosts[n % 50], "cis-level1-server", {}, 1 + n % 10) for n in range(JOBS)])


def one_run(workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        asyncio.run(fill(data))
        outs = [Path(tmp) / f"ran-{n}" for n in range(workers)]
        processes = [subprocess.Popen([sys.executable, "-m", "tests.standin_worker", str(data), str(out), "4"],
                                      cwd=ROOT) for out in outs]
        for process in processes:
            assert process.wait(600) == 0
        ran, begins, ends = [], [], []
        for out in outs:
            *ids, times = out.read_text().splitlines()
            ran += ids
            begin, end = map(float, times.split()[1:])
            begins.append(begin)
            ends.append(end)
        assert len(ran) == JOBS and len(set(ran)) == JOBS, "a job ran twice or not at all"
        return JOBS / (max(ends) - min(begins))


def measure(quick: bool) -> tuple[list[Figure], list[str]]:
    runs = 1 if quick else RUNS
    figures = []
    for workers in WORKERS:
        rate = statistics.median(one_run(workers) for _ in range(runs))
        figures.append(Figure(
            SECTION, f"claim throughput, {workers} worker process{'es' if workers > 1 else ''}, one SQLite store",
            round(rate), "jobs/s", 200 if workers == 4 else None, op=">=" if workers == 4 else "", runs=runs,
            method=f"{JOBS} stand-in jobs (tests/standin_worker.py: a real Runner, a job that only records its "
                   "id) claimed and finished; from the first claim to the last worker idle; every job ran once.",
            limit="SQLite lets one writer in at a time: every claim and finish is a BEGIN IMMEDIATE."))
    return figures, []


def main() -> None:
    for figure in measure(quick=False)[0]:
        print(f"{figure.name}: {figure.shown(figure.value)}")


if __name__ == "__main__":
    main()
