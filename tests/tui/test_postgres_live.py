"""The TUI on a shared PostgreSQL store: scans enqueued by another process and run by a worker
in each zone show up live, woken by LISTEN/NOTIFY (the periodic refresh is set far beyond the
test, so nothing else could show them); the Hosts screen shows each host's zone."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

from core.domain.settings import Settings
from core.domain.store_url import ENV_STORE
from core.workspace import Workspace
from tests.tui.helpers import add_host, make_app, wait_for
from tui.screens.jobs import JobsScreen
from tui.widgets.keyed_table import KeyedTable

NEVER = 3600.0  # seconds: the fallback refresh never fires during the test


async def test_a_tui_on_postgres_sees_zone_workers_run_a_fleet_scan_live(data_dir, fleet, known_hosts, cli,
                                                                          pg_url):
    settings = Settings(store_url=pg_url)
    async with await Workspace.open(data_dir, settings=settings) as workspace:
        for name, zone in (("u2204", "east"), ("u2004", "west")):
            await add_host(workspace, name, "127.0.0.1", port=fleet.hosts[name].port, username="scanner",
                           identity_file=str(fleet.client_key), zone=zone)
    env = cli.env | {ENV_STORE: pg_url}
    app = make_app(data_dir, settings=settings, refresh_seconds=NEVER)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        hosts = app.screen.query_one("#hosts", KeyedTable)
        await wait_for(pilot, lambda: "u2204" in hosts.keys, what="the hosts")
        assert str(hosts.cells("u2204")[6]) == "east" and str(hosts.cells("u2004")[6]) == "west"
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen), what="the Jobs screen")
        jobs = app.screen.query_one("#jobs", KeyedTable)
        await pilot.pause(0.5)
        assert jobs.row_count == 0
        enqueue = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "scan", "u2204", "u2004", "--profile", "cis-level1-server", "--enqueue",
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        assert await enqueue.wait() == 0, (await enqueue.stderr.read()).decode()
        await wait_for(pilot, lambda: jobs.row_count == 2, timeout=10, what="the enqueued jobs, by NOTIFY")
        assert {str(jobs.cells(k)[2]) for k in jobs.keys} == {"pending"}
        workers = [await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "worker", "--zone", zone, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL) for zone in ("east", "west")]
        try:
            seen: set[str] = set()

            def both_completed() -> bool:
                statuses = [str(jobs.cells(k)[2]) for k in jobs.keys]
                seen.update(statuses)
                return statuses == ["completed"] * 2

            await wait_for(pilot, both_completed, timeout=180, what="the zone workers to run both scans")
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                await worker.wait()
        assert "running" in seen  # the claim showed up too, not only the end
        assert app.store_changes.reloads >= 3
        assert app.jobs.active == 0  # the app ran none of them
        await pilot.press("2")  # the scan's score, on the Hosts screen
        hosts = app.screen.query_one("#hosts", KeyedTable)
        await wait_for(pilot, lambda: re.fullmatch(r"\d+(\.\d)?", str(hosts.cells("u2204")[7]).strip()),
                       timeout=10, what="the new score on Hosts")
