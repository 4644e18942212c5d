"""`compliance-tui worker --processes N` on a real SQLite store: real processes (the parent and
the children it starts), the real CLI and Runner, stand-in jobs (tests/standin_cli.py, no
target). Only this test's own processes are looked at or signalled (tests/procs.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.domain.models import Host, Job, JobStatus
from core.domain.policy import Schedule
from core.domain.timeutil import to_iso
from core.jobs.worker import HEARTBEAT
from core.store.base import NewScanJob
from core.workspace import Workspace
from tests import procs

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """`worker ...` of tests.standin_cli on tmp_path's data dir, in a session of its own."""

    def __init__(self, tmp_path: Path, *args: str, seconds: float = 0.0, env: dict | None = None):
        self.data = tmp_path / "data"
        self.out = tmp_path / "ran"
        self.out.mkdir(exist_ok=True)
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        self.env = os.environ | {"COMPLIANCE_TUI_HOME": str(self.data), "HOME": str(home),
                                 "COMPLIANCE_TUI_CONFIG": str(tmp_path / "config.toml"),
                                 "STANDIN_OUT": str(self.out), "STANDIN_SECONDS": str(seconds)} | (env or {})
        self.process = subprocess.Popen([sys.executable, "-m", "tests.standin_cli", "worker", *args], cwd=ROOT,
                                        env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        self.tracked = procs.Tracked()

    def children(self) -> list[int]:
        return self.tracked.add(procs.descendants(self.process.pid))

    def finish(self, timeout: float) -> str:
        try:
            _, err = self.process.communicate(timeout=timeout)
        finally:
            procs.kill([self.process.pid, *self.tracked.alive()])
        return err

    def ran(self) -> dict[int, list[str]]:
        """Job ids by the pid of the process that ran them."""
        return {int(f.stem.removeprefix("ran-")): f.read_text().split() for f in self.out.glob("ran-*.txt")}


async def enqueue(tmp_path: Path, count: int, schedule: bool = False) -> list[Job]:
    """count jobs of host web1; schedule: and a schedule of web1 with a slot due (missed)."""
    async with await Workspace.open(tmp_path / "data", content_dirs=[tmp_path / "none"]) as workspace:
        host = await workspace.store.add_host(Host(name="web1", address="10.0.0.1"))
        if schedule:
            await workspace.store.add_schedule(Schedule(
                "hosts", ("web1",), "cis-level1-server", "daily 00:00", "UTC",
                not_before=to_iso(datetime.now(timezone.utc) - timedelta(days=3))))
        return await workspace.store.create_scan_jobs(
            [NewScanJob(host, "cis-level1-server", {}, 5) for _ in range(count)])


async def heartbeat_pid(tmp_path: Path) -> int:
    async with await Workspace.open(tmp_path / "data", content_dirs=[tmp_path / "none"]) as workspace:
        return pid_of((await workspace.store.get_meta(HEARTBEAT) or "- ").split()[1])


async def jobs_now(tmp_path: Path) -> list[Job]:
    async with await Workspace.open(tmp_path / "data", content_dirs=[tmp_path / "none"]) as workspace:
        jobs, _ = await workspace.store.find_jobs(limit=1000)
        return [await workspace.store.get_job(j.id) for j in jobs]


async def wait_until(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await condition()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("timed out")


async def running_in_two_processes(tmp_path: Path) -> list[Job] | None:
    running = [j for j in await jobs_now(tmp_path) if j.status is JobStatus.RUNNING]
    return running if len({j.lease_owner for j in running}) == 2 else None


def pid_of(owner: str | None) -> int:
    return int((owner or "").split(":")[1])


async def test_two_processes_run_each_job_exactly_once_and_both_claim(tmp_path):
    jobs = await enqueue(tmp_path, 60, schedule=True)
    worker = Worker(tmp_path, "--processes", "2", "--once", "--max-concurrent", "4", seconds=0.2)
    err = await asyncio.to_thread(worker.finish, 120)
    assert worker.process.returncode == 0, err
    ran = worker.ran()
    assert len(ran) == 2 and worker.process.pid in ran, f"both processes ran jobs: {sorted(ran)}"
    ended = await jobs_now(tmp_path)
    assert len(ended) == len(jobs) + 1 and err.count("scan job(s) enqueued") == 1, err  # the schedule's, once
    assert sorted(i for ids in ran.values() for i in ids) == sorted(j.id for j in ended), "each job ran once"
    assert {(j.status, j.attempts) for j in ended} == {(JobStatus.COMPLETED, 1)}
    owners = {j.lease_owner for j in ended}
    assert len(owners) == 2 and {pid_of(o) for o in owners} == set(ran)
    assert "up to 2 at once (and 1 more worker process(es))" in err  # 4 divided between 2
    assert "stopped (" not in err  # a child ending its --once is no news


async def test_sigterm_reaches_the_children_and_the_worker_exits_cleanly(tmp_path):
    (tmp_path / "config.toml").write_text("[jobs]\nworker_grace = 0.5\n")
    await enqueue(tmp_path, 4)
    worker = Worker(tmp_path, "--processes", "2", "--max-concurrent", "4", seconds=300)
    try:
        running = await wait_until(lambda: running_in_two_processes(tmp_path))
        (child,) = worker.children()
        assert {pid_of(j.lease_owner) for j in running} == {worker.process.pid, child}
        assert await heartbeat_pid(tmp_path) == worker.process.pid  # the first process beats
        worker.process.send_signal(signal.SIGTERM)
    finally:
        err = await asyncio.to_thread(worker.finish, 60)
    assert worker.process.returncode == 0, err
    assert err.count("stopping: 2 job(s) running") == 2, err  # each process had the signal, once
    assert worker.tracked.alive() == []
    back = await jobs_now(tmp_path)
    assert {j.status for j in back} == {JobStatus.PENDING}
    assert all("back in the queue" in j.output for j in back)


async def test_ctrl_c_on_a_terminal_stops_each_process_once_so_running_jobs_finish(tmp_path):
    """SIGINT to the whole process group (a terminal's Ctrl-C): the children, in their own
    session, get it once (forwarded), so they still let their running jobs finish."""
    jobs = await enqueue(tmp_path, 4)
    worker = Worker(tmp_path, "--processes", "2", "--max-concurrent", "4", seconds=3)
    try:
        await wait_until(lambda: running_in_two_processes(tmp_path))
        worker.children()
        os.killpg(worker.process.pid, signal.SIGINT)
    finally:
        err = await asyncio.to_thread(worker.finish, 60)
    assert worker.process.returncode == 0, err
    assert "stopping now" not in err
    ended = await jobs_now(tmp_path)
    assert {j.status for j in ended} == {JobStatus.COMPLETED} and len(ended) == len(jobs)


async def test_a_dead_child_is_reported_in_one_line_and_sets_the_exit_status(tmp_path):
    (tmp_path / "config.toml").write_text("[jobs]\nworker_grace = 0.5\n")
    await enqueue(tmp_path, 4)
    worker = Worker(tmp_path, "--processes", "2", "--max-concurrent", "4", seconds=300,
                    env={"COMPLIANCE_TUI_LEASE_SECONDS": "1"})
    try:
        await wait_until(lambda: running_in_two_processes(tmp_path))
        (child,) = worker.children()
        os.kill(child, signal.SIGKILL)
        await wait_until(lambda: asyncio.sleep(0, not worker.tracked.alive()))

        async def requeued() -> bool:  # its leases ran out: the first process put its jobs back
            return {j.status for j in await jobs_now(tmp_path)} == {JobStatus.RUNNING, JobStatus.PENDING}

        await wait_until(requeued, timeout=30)
        worker.process.send_signal(signal.SIGTERM)
    finally:
        err = await asyncio.to_thread(worker.finish, 60)
    assert worker.process.returncode == 128 + signal.SIGKILL, err
    reported = [line for line in err.splitlines() if f"worker process {child} stopped" in line]
    assert len(reported) == 1 and "killed by SIGKILL" in reported[0], err


async def test_children_die_with_a_killed_worker(tmp_path):
    await enqueue(tmp_path, 4)
    worker = Worker(tmp_path, "--processes", "3", "--max-concurrent", "3", seconds=300)
    try:
        await wait_until(lambda: asyncio.sleep(0, len(worker.children()) == 2))
        os.kill(worker.process.pid, signal.SIGKILL)
        await wait_until(lambda: asyncio.sleep(0, not worker.tracked.alive()), timeout=20)
    finally:
        await asyncio.to_thread(worker.finish, 60)


def test_processes_is_checked_in_one_line(tmp_path):
    for value in ("0", "-2", "two"):
        worker = Worker(tmp_path, "--processes", value, "--once")
        err = worker.finish(60)
        assert worker.process.returncode == 1 and err.count("\n") == 1, err
        assert f"invalid --processes '{value}'" in err
    worker = Worker(tmp_path, "--processes", "1", "--once")
    err = worker.finish(60)
    assert worker.process.returncode == 0 and "more worker process" not in err, err
