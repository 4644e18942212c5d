"""Load: a store with 500 hosts and a year of daily scans stays responsive while a worker
writes (no "database is locked" reaches anyone), and the TUI and two CLI processes writing at
once lose no row. Real SQLite files, real processes; the worker runs stand-in jobs (the queue's
writes without a target, tests/standin_worker.py)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.domain.models import Host, Scan, ScanStatus
from core.domain.timeutil import to_iso
from core.store.base import NewScanJob
from core.views import summaries
from core.workspace import Workspace
from tests.security import documents
from tests.security.conftest import integrity
from tests.seed import data_dir_with_index

ROOT = Path(__file__).resolve().parents[2]
HOSTS, DAYS, JOBS = 500, 365, 8000
# Bounds that catch a read held up by the writer (a lock wait ends at the 30 s busy_timeout, as an
# error), not speed figures: those are the bench's. This test runs beside the rest of the suite on
# two cores, where a Hosts screen that takes about 1 s alone took 4.6 s.
READ_LIMIT_S = 10.0  # one read model or TUI screen, in process, while the worker writes
CLI_LIMIT_S = 15.0  # one CLI command, interpreter start included


async def _year_of_scans(data: Path) -> None:
    """500 hosts and a daily scan of each for a year (182,500 scans), through the store's API."""
    async with await Workspace.open(data, content_dirs=[data / "none"]) as workspace:
        hosts = [await workspace.store.add_host(Host(name=f"h{i:03d}", address=f"10.0.{i // 250}.{i % 250 + 1}"))
                 for i in range(HOSTS)]
        start = datetime.now(timezone.utc) - timedelta(days=DAYS)
        batch = []
        for day in range(DAYS):
            when = to_iso(start + timedelta(days=day))
            for host in hosts:
                fail = (host.id * 7 + day) % 60
                batch.append((Scan(
                    id=str(uuid.uuid4()), host_id=host.id, host_name=host.name, profile="cis-level1-server",
                    profile_id=documents.L1, status=ScanStatus.COMPLETED, counts={"pass": 190 - fail, "fail": fail},
                    score=round(100 * (190 - fail) / 190, 1), created_at=when, started_at=when, finished_at=when,
                    origin="import", source_file="daily.xml", source_sha256="0" * 64, result_key=f"daily-{day}",
                    target=host.name), []))
            if len(batch) >= 20_000:
                await workspace.store.add_imported_scans(batch)
                batch = []
        await workspace.store.add_imported_scans(batch)
        await workspace.store.create_scan_jobs(
            [NewScanJob(hosts[n % HOSTS], "cis-level1-server", {}, 1 + n % 10) for n in range(JOBS)])


@pytest.fixture(scope="module")
def year_store(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("year") / "data"
    asyncio.run(_year_of_scans(data))
    return data


async def _timed(label: str, coroutine, took: dict) -> None:
    started = time.monotonic()
    await coroutine
    took[label] = max(took.get(label, 0.0), time.monotonic() - started)


async def test_a_year_of_scans_stays_responsive_while_a_worker_writes(year_store, tmp_path, cli, content_index):
    data = tmp_path / "year"
    shutil.copytree(year_store, data)
    data_dir_with_index(data, content_index)  # no cold content discovery competing for the CPU
    out = tmp_path / "ran.txt"
    worker = subprocess.Popen([sys.executable, "-m", "tests.standin_worker", str(data), str(out), "4"],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True)
    took: dict[str, float] = {}
    cli_took: dict[str, float] = {}
    errors: list[str] = []
    env = cli.env | {"COMPLIANCE_TUI_HOME": str(data)}
    since = to_iso(datetime.now(timezone.utc) - timedelta(days=30))
    rounds = 0
    from tests.tui.helpers import make_app, wait_for  # the TUI opens its dashboard meanwhile
    from tui.screens.hosts import HostsScreen
    from tui.widgets.keyed_table import KeyedTable

    app = make_app(data, clock=lambda: datetime.now(timezone.utc))  # the last 30 days of the year
    started = time.monotonic()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query(KeyedTable) and app.screen.query_one(
            "#fleet", KeyedTable).row_count == HOSTS + 1, timeout=30, what="the dashboard's 500 hosts")
        took["TUI dashboard, 500 hosts"] = time.monotonic() - started
        await pilot.press("2")  # Hosts
        started = time.monotonic()
        await wait_for(pilot, lambda: isinstance(app.screen, HostsScreen) and app.screen.query(KeyedTable) and
                       app.screen.query(KeyedTable).first().row_count == HOSTS + 1, timeout=30,
                       what="the Hosts screen")  # and localhost
        took["TUI hosts screen"] = time.monotonic() - started
    assert worker.poll() is None, "the worker finished before the TUI was measured under its writes"
    async with await Workspace.open(data, content_dirs=[data / "none"]) as workspace:
        while worker.poll() is None or rounds < 2:
            rounds += 1
            store = workspace.store
            await _timed("dashboard (fleet view, 30 days)", summaries.fleet_view(store, since=since), took)
            await _timed("hosts view", summaries.hosts_view(store), took)
            await _timed("one host's year of scans", summaries.host_scans(store, "h250", since=since), took)
            await _timed("jobs page", summaries.jobs_page(store, offset=0, limit=50), took)
            for args in (("scans", "list", "--host", "h123", "--json"), ("jobs", "list", "--status", "pending")):
                started = time.monotonic()
                done = await asyncio.to_thread(
                    subprocess.run, [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env)
                cli_took[args[0]] = max(cli_took.get(args[0], 0.0), time.monotonic() - started)
                if done.returncode != 0 or "locked" in done.stderr:
                    errors.append(f"{args}: {done.stderr.strip()}")
            if rounds > 40:
                break
        counts = await workspace.store.job_status_counts()
    assert worker.wait(120) == 0
    print(f"\n{rounds} rounds of reads while the worker ran {JOBS} jobs; slowest: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in {**took, **cli_took}.items()))
    assert "locked" not in worker.stderr.read()
    assert errors == []
    assert counts == {"completed": JOBS}, counts
    assert len(out.read_text().splitlines()) == JOBS + 1  # every job ran once, while we read
    slow = {k: round(v, 2) for k, v in took.items() if v > READ_LIMIT_S}
    assert not slow, f"read models slower than {READ_LIMIT_S} s under write load: {slow}"
    slow = {k: round(v, 2) for k, v in cli_took.items() if v > CLI_LIMIT_S}
    assert not slow, f"CLI commands slower than {CLI_LIMIT_S} s under write load: {slow}"
    assert integrity(data) == "ok"


async def test_the_tui_and_two_cli_processes_writing_at_once_lose_no_row(data_dir, tmp_path, cli):
    """Two `import` processes (40 files each, a transaction per file) and the TUI queueing scans
    (its own connection and runner) write to one store at the same time."""
    from tests.tui.helpers import make_app

    files = {}
    for who in ("a", "b"):
        folder = tmp_path / who
        folder.mkdir()
        files[who] = []
        for i in range(40):
            path = folder / f"{i}.xml"
            rules = {f"{documents.RULE}r{n}": (f"rule {n}", "") for n in range(200)}
            path.write_text(documents.results(f"xccdf_t_{who}_{i}", target=f"cli-{who}", rules=rules,
                                              start=f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:00:00"))
            files[who].append(str(path))
    async with await Workspace.open(data_dir) as workspace:
        for name in ("tui-1", "tui-2", "tui-3"):
            await workspace.store.add_host(Host(name=name, address="10.0.0.9"))
    app = make_app(data_dir)
    queued = 0
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        writers = [subprocess.Popen([sys.executable, "-m", "tui", "import", *paths, "--host", f"cli-{who}",
                                     "--create-host"], env=cli.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for who, paths in files.items()]
        from core.jobs import queue

        while any(w.poll() is None for w in writers) or queued < 60:
            wanted = await queue.scan_requests(app.workspace, ["tui-1", "tui-2", "tui-3"], "cis-level1-server")
            await app.jobs.scan(wanted, False)  # left to a worker: pending rows written by the TUI
            queued += 3
            await pilot.pause(0.01)
        results = [w.communicate(timeout=120) for w in writers]
    for writer, (out, err) in zip(writers, results):
        assert writer.returncode == 0, err
        assert "locked" not in err
    async with await Workspace.open(data_dir) as workspace:
        scans = await workspace.store.find_scans()
        jobs, total = await workspace.store.find_jobs()
    imported = [s for s in scans if s.origin == "import"]
    assert len([s for s in imported if s.host_name == "cli-a"]) == 40
    assert len([s for s in imported if s.host_name == "cli-b"]) == 40
    assert total == queued and len([s for s in scans if s.origin == "scan"]) == queued
    assert integrity(data_dir) == "ok"


# A worker process (the real Runner and store, a stand-in scan that only records its job) that
# claims pending jobs until STOP exists, then runs what is left and writes the ids it ran.
WORKER = r"""
import asyncio, sys
from pathlib import Path
from core.jobs.runner import Runner
from core.workspace import Workspace

async def main(data, out, stop):
    ran = []

    async def stand_in(ctx):
        ran.append(ctx.job.id)
        await ctx.flush()  # a write of its own, as a scan's progress is

    workspace = await Workspace.open(data, content_dirs=[data / "none"])
    try:
        runner = Runner(workspace, take_pending=True, handlers={"scan": stand_in}, poll_seconds=0.2)
        await runner.start()
        while not stop.exists():
            await asyncio.sleep(0.1)
        await runner.run_until_idle()
        await runner.stop()
    finally:
        await workspace.close()
    out.write_text("".join(f"{job_id}\n" for job_id in ran))

asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
"""


async def test_22_6_a_tui_a_worker_and_two_clis_writing_at_once_lose_nothing(data_dir, tmp_path, cli):
    """The TUI queues scans for workers, a worker claims and runs them (claims, lease renewals,
    log writes, job ends), and two `import` processes add 40 results files each, all at once on
    one SQLite file: no "database is locked" reaches anyone, every row lands, every job runs once."""
    from core.jobs import queue
    from tests.tui.helpers import make_app

    files = {}
    for who in ("a", "b"):
        folder = tmp_path / who
        folder.mkdir()
        files[who] = [str(_results_file(folder / f"{i}.xml", who, i)) for i in range(40)]
    async with await Workspace.open(data_dir) as workspace:
        for name in ("tui-1", "tui-2", "tui-3"):
            await workspace.store.add_host(Host(name=name, address="10.0.0.9"))
    ran, stop = tmp_path / "ran.txt", tmp_path / "stop"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(data_dir), str(ran), str(stop)], cwd=ROOT,
                              env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    app = make_app(data_dir)
    queued, errors = 0, []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        writers = [subprocess.Popen([sys.executable, "-m", "tui", "import", *paths, "--host", f"cli-{who}",
                                     "--create-host"], env=cli.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for who, paths in files.items()]
        while any(w.poll() is None for w in writers) or queued < 60:
            wanted = await queue.scan_requests(app.workspace, ["tui-1", "tui-2", "tui-3"], "cis-level1-server")
            await app.jobs.scan(wanted, False)  # pending: for the worker
            queued += 3
            await pilot.pause(0.01)
        results = [w.communicate(timeout=120) for w in writers]
        stop.touch()
        worker_out, worker_err = worker.communicate(timeout=120)
        errors = [n.message for n in app._notifications if n.severity == "error"]
    for writer, (out, err) in zip(writers, results):
        assert writer.returncode == 0 and "locked" not in err, err
    assert worker.returncode == 0 and "locked" not in worker_err, worker_err
    assert not errors and not any("locked" in e for e in errors), errors
    async with await Workspace.open(data_dir) as workspace:
        scans = await workspace.store.find_scans()
        jobs, total = await workspace.store.find_jobs(limit=10_000)
    imported = [s for s in scans if s.origin == "import"]
    assert sorted(s.host_name for s in imported) == ["cli-a"] * 40 + ["cli-b"] * 40
    assert total == queued and {j.status.value for j in jobs} == {"completed"}, {j.status.value for j in jobs}
    done = ran.read_text().split()
    assert sorted(done) == sorted(j.id for j in jobs)  # each job ran once, none lost
    assert integrity(data_dir) == "ok"


def _results_file(path: Path, who: str, i: int) -> Path:
    rules = {f"{documents.RULE}r{n}": (f"rule {n}", "") for n in range(200)}
    path.write_text(documents.results(f"xccdf_t_{who}_{i}", target=f"cli-{who}", rules=rules,
                                      start=f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:00:00"))
    return path
