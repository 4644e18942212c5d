"""Claim throughput of the job queue: jobs claimed and finished per second on one SQLite
store by 1, 2 and 4 worker processes, each a real Runner with a stand-in job (no target).

Goal (issue 9): at least 200 jobs per second with 4 workers, and no job run twice.
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

JOBS = 2000
RUNS = 3
ROOT = Path(__file__).resolve().parents[2]


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


def main() -> None:
    print(f"queue: {JOBS} stand-in jobs on one SQLite store, median of {RUNS} runs")
    for workers in (1, 2, 4):
        rates = [one_run(workers) for _ in range(RUNS)]
        goal = "  (goal >= 200/s)" if workers == 4 else ""
        print(f"  {workers} worker process(es): {statistics.median(rates):7.0f} jobs/s{goal}")


if __name__ == "__main__":
    main()
