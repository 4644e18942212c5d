"""Issue 23, item 1: the TUI sits idle on a screen and another process starts a job (a real
`compliance-tui scan --enqueue`, a second workspace on the same SQLite file as cron or a worker
would have); the screen shows it within a few seconds, without r. The periodic refresh is set to
ten minutes here, so only the store's change check can be what shows it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

from core.domain.policy import Schedule
from core.jobs import submit
from core.schedules.service import enqueue_due
from core.store.base import NewScanJob
from core.workspace import Workspace
from tests.tui.helpers import NOW, ago, make_app, seed_scan, settle, wait_for
from tui.widgets.keyed_table import KeyedTable

SOON = 5.0  # seconds: a poll (1 s), the settle (0.5 s) and a reload, with room to spare


def idle_app(data_dir: Path):
    return make_app(data_dir, refresh_seconds=600)


async def on_screen(pilot, key: str) -> KeyedTable:
    await pilot.press(key)
    await settle(pilot)
    await pilot.pause(1.5)  # idle: any change check already under way has passed
    return pilot.app.screen.query_one(KeyedTable)


def cells(table: KeyedTable, key: str) -> list[str]:
    return [getattr(c, "plain", str(c)) for c in table.cells(key)]


async def enqueue_elsewhere(data_dir: Path, host: str) -> str:
    """A pending scan job made by another workspace on the same store: its scan id."""
    async with await Workspace.open(data_dir) as other:
        target = await other.store.require_host(host)
        (job,) = await submit.scans(other, [NewScanJob(target, "cis-level1-server", {}, 5)], submit.WORKERS)
    return job.scan_id


async def test_a_job_another_process_enqueues_shows_on_every_idle_screen(fleet_data, cli, l1_results):
    app = idle_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Jobs: a real CLI process
        table = await on_screen(pilot, "4")
        before = set(table.keys)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "scan", "db01", "--profile", "cis-level1-server", "--enqueue", "--json",
            env=cli.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        (job,) = json.loads(out)
        await wait_for(pilot, lambda: job["id"] in table.keys, SOON, "the CLI's job on Jobs")
        assert set(table.keys) - before == {job["id"]} and "pending" in cells(table, job["id"])

        # Compliance of web01: its new pending scan
        app.open_compliance("web01")
        table = await on_screen(pilot, "3")
        scan_id = await enqueue_elsewhere(fleet_data, "web01")
        await wait_for(pilot, lambda: scan_id in table.keys, SOON, "the pending scan on Compliance")
        assert "waiting for a worker" in cells(table, scan_id)

        # Hosts: legacy's row says its job waits
        table = await on_screen(pilot, "2")
        assert "pending" not in cells(table, "legacy")
        await enqueue_elsewhere(fleet_data, "legacy")
        await wait_for(pilot, lambda: "pending" in cells(table, "legacy"), SOON, "legacy's job on Hosts")

        # Dashboard: a scan another process ran to the end shows legacy's score
        table = await on_screen(pilot, "1")
        table = app.screen.query_one("#fleet", KeyedTable)
        assert "never" in cells(table, "legacy")
        async with await Workspace.open(fleet_data) as other:
            await seed_scan(other, "legacy", l1_results, scan_id="0dd1e5c4-0000-4000-8000-000000000001",
                            created_at=ago(0, 1))
        await wait_for(pilot, lambda: "never" not in cells(table, "legacy"), SOON, "legacy's scan on Dashboard")
        assert "58.3" in cells(table, "legacy")

        # Schedules: a worker (another process, its clock two hours on) enqueues a due slot
        async with await Workspace.open(fleet_data) as other:
            schedule = await other.store.add_schedule(Schedule(
                "hosts", ("db01",), "cis-level1-server", "daily 13:00", "UTC", not_before=ago(0, 1)))
        table = await on_screen(pilot, "5")
        assert "never ran" in cells(table, schedule.id)
        async with await Workspace.open(fleet_data) as other:
            (done,) = await enqueue_due(other, "worker:elsewhere", NOW + timedelta(hours=2))
        await wait_for(pilot, lambda: "1 pending" in cells(table, schedule.id), SOON, "the slot on Schedules")
        assert app.store_changes.reloads >= 5
        assert not os.environ.get("COMPLIANCE_TUI_STORE_URL")  # this is the SQLite store's own check

        # under a dialog nothing reloads; closing it shows what came meanwhile
        table = await on_screen(pilot, "4")
        await pilot.press("question_mark")
        await settle(pilot)
        shown, reloads = len(table.keys), app.store_changes.reloads
        scan_id = await enqueue_elsewhere(fleet_data, "db01")
        await pilot.pause(3)
        assert app.store_changes.reloads == reloads and len(table.keys) == shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(table.keys) == shown + 1, SOON, "the job behind the dialog")
