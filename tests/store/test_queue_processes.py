"""The queue on one real SQLite file shared by several processes (not threads), each a real
Runner: every job runs exactly once, whoever claims it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from core.domain.models import Host, JobStatus
from core.store.base import NewScanJob
from core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


async def test_four_worker_processes_run_each_job_exactly_once(tmp_path):
    data = tmp_path / "data"
    async with await Workspace.open(data, content_dirs=[tmp_path / "none"]) as workspace:
        host = await workspace.store.add_host(Host(name="web1", address="10.0.0.1"))
        jobs = await workspace.store.create_scan_jobs(
            [NewScanJob(host, "cis-level1-server", {}, 1 + n % 10) for n in range(300)])
    outs = [tmp_path / f"ran-{n}.txt" for n in range(4)]
    workers = [subprocess.Popen([sys.executable, "-m", "tests.standin_worker", str(data), str(out), "4"],
                                cwd=ROOT) for out in outs]
    codes = await asyncio.gather(*(asyncio.to_thread(w.wait, 120) for w in workers))
    assert codes == [0, 0, 0, 0]
    ran = [line for out in outs for line in out.read_text().splitlines() if not line.startswith("#")]
    assert sorted(ran) == sorted(j.id for j in jobs), "every job ran exactly once"
    assert sum(1 for out in outs if len(out.read_text().splitlines()) > 1) >= 2, "they shared the work"
    async with await Workspace.open(data, content_dirs=[tmp_path / "none"]) as workspace:
        assert await workspace.store.job_status_counts() == {JobStatus.COMPLETED.value: 300}
        assert await workspace.store.integrity_check() == "ok"
