"""Schedules with real processes: a weekly schedule scans a played host with no TUI open; two
workers and the TUI that all see the same due slot enqueue it once; slots missed while
nothing ran give one run, not one per slot."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from core.domain.timeutil import to_iso
from core.schedules.cadence import DAYS
from core.workspace import Workspace
from tests.conftest import free_port
from tests.integration.test_jobs import background
from tests.tui.helpers import make_app

NOW = datetime.now(timezone.utc)


async def backdate(data_dir, schedule_id: str, days: int) -> None:
    """As if the schedule had been made `days` ago and nothing had run since."""
    async with await Workspace.open(data_dir) as workspace:
        schedule = await workspace.store.get_schedule(schedule_id)
        await workspace.store.update_schedule(replace(schedule, not_before=to_iso(NOW - timedelta(days=days))))


async def runs_and_jobs(data_dir, schedule_id: str) -> tuple[list[dict], list]:
    async with await Workspace.open(data_dir) as workspace:
        jobs, _ = await workspace.store.find_jobs()
        return await workspace.store.schedule_runs(schedule_id), [j for j in jobs
                                                                  if j.params.get("schedule") == schedule_id]


def test_a_weekly_schedule_scans_the_fleet_with_no_tui_open(cli, fleet, known_hosts, data_dir):
    from tests.conftest import add_fleet_host

    add_fleet_host(cli, fleet, "u2204")
    cli.ok("hosts", "tag", "u2204", "web")
    earlier = NOW - timedelta(hours=1)
    day = DAYS[(earlier.weekday() + 1) % 7]  # Python's Monday is 0, cron's Sunday is
    added = cli.ok("schedules", "add", "--tag", "web", "--profile", "cis-level1-server", "--weekly",
                   f"{day}@{earlier:%H:%M}", "--tz", "UTC", "--json").json()
    assert added["hosts"] == 1 and added["last_run"] is None
    assert cli("worker", "--once").returncode == 0  # made just now: this week's slot is not its to run
    assert cli.ok("scans", "list", "--json").json() == []
    asyncio.run(backdate(data_dir, added["id"], 22))  # three weekly slots missed
    done = cli("worker", "--once")
    assert done.returncode == 0, done.stderr
    assert f"schedule {added['id'][:8]}: slot" in done.stderr and "1 scan job(s) enqueued" in done.stderr
    (scan,) = cli.ok("scans", "list", "--json").json()
    assert scan["status"] == "completed" and scan["host"] == "u2204"
    (listed,) = cli.ok("schedules", "list", "--json").json()
    assert listed["last_outcome"] == {"completed": 1}
    assert listed["last_run"][:16] == f"{earlier:%Y-%m-%dT%H:%M}"
    assert listed["next_run"][:16] == f"{earlier + timedelta(days=7):%Y-%m-%dT%H:%M}"
    runs, jobs = asyncio.run(runs_and_jobs(data_dir, added["id"]))
    assert len(runs) == 1 and len(jobs) == 1  # one run for the three missed slots
    assert cli("worker", "--once").returncode == 0
    assert len(cli.ok("scans", "list", "--json").json()) == 1  # the slot ran already


async def test_two_workers_and_the_tui_enqueue_a_due_slot_once(cli, data_dir):
    for name in ("gone1", "gone2"):  # nothing listens there: each scan fails at once
        cli.ok("hosts", "add", name, "--address", "127.0.0.1", "--port", str(free_port()), "--tag", "lab")
    earlier = NOW - timedelta(hours=1)
    added = cli.ok("schedules", "add", "--tag", "lab", "--profile", "cis-level1-server", "--daily",
                   f"{earlier:%H:%M}", "--tz", "UTC", "--json").json()
    await backdate(data_dir, added["id"], 5)
    workers = [background(cli, "worker", "--once") for _ in range(2)]
    app = make_app(data_dir, clock=lambda: datetime.now(timezone.utc))
    async with app.run_test() as pilot:
        await app.schedules.run_once()
        await pilot.pause()
        for worker in workers:
            await asyncio.to_thread(worker.wait, 120)
        await app.schedules.run_once()  # the slot is taken: nothing more
    assert all(w.returncode == 0 for w in workers), [w.stderr.read() for w in workers]
    runs, jobs = await runs_and_jobs(data_dir, added["id"])
    assert len(runs) == 1 and runs[0]["jobs"] == 2
    assert sorted(j.host_name for j in jobs) == ["gone1", "gone2"]
    assert {j.params["slot"] for j in jobs} == {runs[0]["slot"]}
