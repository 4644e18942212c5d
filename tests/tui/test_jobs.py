"""The Jobs screen: every job of the store, filters, pages, details, cancel and priority; and
scans queued from the TUI for a real worker process (fleet)."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import pytest
from textual.geometry import Region
from textual.widgets import Button

from core.domain.models import JobStatus
from core.domain.timeutil import now_iso
from core.store.base import NewScanJob
from core.views.summaries import JOBS_PAGE
from core.workspace import Workspace
from tests.seed import seed_job
from tests.tui.helpers import SCAN_IDS, make_app, settle, wait_for
from tui.modals.confirm import ConfirmModal
from tui.modals.job_detail import JobDetailModal
from tui.screens.jobs import JobsScreen
from tui.widgets.chip import Chip
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.run_choice import RunChoice


async def jobs_screen(pilot) -> JobsScreen:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    assert isinstance(pilot.app.screen, JobsScreen)
    return pilot.app.screen


async def test_jobs_list_every_job_with_status_host_and_output(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await jobs_screen(pilot)
        table = screen.query_one("#jobs", KeyedTable)
        assert table.row_count == 5
        first = table.cells(table.keys[0])
        assert str(first[0]) == "web01" and str(first[2]) == "failed"
        assert "unreachable" in str(first[6])
        assert "1–5 / 5" in str(screen.query_one("#job-range").render())
        await pilot.press("s", "s", "s", "s", "s")  # all -> pending -> ... -> failed
        await settle(pilot)
        assert screen.query_one("#job-status", Chip).value == "failed" and table.row_count == 1
        await pilot.press("s", "s", "h")  # back to all statuses; the first host
        await settle(pilot)
        host = screen.query_one("#job-host", Chip).value
        assert host in ("db01", "legacy", "web01")
        assert all(str(table.cells(k)[0]) == host for k in table.keys)


async def test_details_show_the_error_and_the_whole_log(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await jobs_screen(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailModal) and app.screen.job, what="details")
        modal = app.screen
        assert modal.job.scan_id == SCAN_IDS["web-fail"]
        assert "connection refused" in str(modal.query_one("#job-error").render())
        await pilot.press("ctrl+k")  # a finished job: nothing to cancel, no question asked
        await pilot.pause()
        assert app.screen is modal


async def test_cancel_asks_first_then_takes_a_pending_job_out_of_the_queue(fleet_data):
    async with await Workspace.open(fleet_data) as workspace:
        host = await workspace.store.require_host("legacy")
        waiting = await seed_job(workspace.store, host, start=False)
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await jobs_screen(pilot)
        table = screen.query_one("#jobs", KeyedTable)
        assert table.cursor_key == waiting.id and str(table.cells(waiting.id)[2]) == "pending"
        assert "no worker seen" in str(screen.query_one("#job-range").render())
        await pilot.press("plus", "plus")
        await settle(pilot)
        assert (await app.workspace.store.get_job(waiting.id)).priority == 7
        await pilot.press("minus")
        await settle(pilot)
        assert (await app.workspace.store.get_job(waiting.id)).priority == 6
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "take it out of the queue" in app.screen.question
        buttons = [str(b.label) for b in app.screen.query(Button)]
        assert buttons == ["Stop job (y)", "Keep it (n)"]  # never "Cancel job" beside "Cancel"
        await pilot.press("n")
        await settle(pilot)
        assert (await app.workspace.store.get_job(waiting.id)).status is JobStatus.PENDING
        await pilot.press("ctrl+k", "y")
        await settle(pilot)
        assert (await app.workspace.store.get_job(waiting.id)).status is JobStatus.CANCELLED
        assert str(table.cells(waiting.id)[2]) == "cancelled"


async def test_jobs_page_with_a_range(fleet_data):
    async with await Workspace.open(fleet_data) as workspace:
        host = await workspace.store.require_host("legacy")
        for _ in range(JOBS_PAGE + 10):
            await seed_job(workspace.store, host, start=False)
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await jobs_screen(pilot)
        total = JOBS_PAGE + 15
        assert f"1–{JOBS_PAGE} / {total}" in str(screen.query_one("#job-range").render())
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert f"{JOBS_PAGE + 1}–{total} / {total}" in str(screen.query_one("#job-range").render())
        assert screen.query_one("#jobs", KeyedTable).row_count == 15
        await pilot.press("right_square_bracket")  # no page beyond the last
        await settle(pilot)
        assert screen.page.offset == JOBS_PAGE


@pytest.mark.fleet
async def test_scans_queued_from_the_tui_wait_for_a_worker_and_appear_live(data_dir, fleet, known_hosts, cli):
    from tests.tui.test_scans import add_fleet_hosts

    await add_fleet_hosts(data_dir, fleet, "u2204", "u2004")
    app = make_app(data_dir, refresh_seconds=0.3)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#hosts", KeyedTable)
        for name in ("u2004", "u2204"):
            table.move_to(name)
            await pilot.press("space")
        await pilot.press("b")
        await pilot.pause()
        assert app.screen.query_one(RunChoice).here
        await pilot.press("w", "ctrl+s")  # leave them to a worker
        modal = app.screen
        await wait_for(pilot, lambda: len(modal.followed) == 2, what="the jobs")
        await pilot.pause(0.5)
        assert {j.status for j in modal.followed.values()} == {JobStatus.PENDING}  # no worker yet
        await pilot.press("escape")
        screen = await jobs_screen(pilot)
        jobs = screen.query_one("#jobs", KeyedTable)
        assert [str(jobs.cells(k)[2]) for k in jobs.keys] == ["pending", "pending"]
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "worker", env=cli.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            # no key pressed from here: the screen re-reads the store while jobs are unfinished
            running: set[str] = set()  # what the output column said of a running job

            def both_completed() -> bool:
                rows = [jobs.cells(k) for k in jobs.keys]
                running.update(str(row[6]) for row in rows if str(row[2]) == "running")
                return [str(row[2]) for row in rows] == ["completed"] * 2

            await wait_for(pilot, both_completed, timeout=120, what="the worker to run both")
        finally:
            worker.send_signal(signal.SIGTERM)
            await worker.wait()
        assert app.jobs.active == 0  # the app ran none of them
        assert any(re.search(r"\d+ / \d+ rules · \w+ \d+s", text) for text in running), running  # the rule oscap runs


def rendered(widget) -> str:
    """A widget's text as drawn on screen (a Static may hold Rich tables)."""
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.size)))


async def test_jobs_and_the_jobs_details_show_the_same_progress(fleet_data):
    """40 quick rules, then one that takes long: the list (live events) and the details (the
    store, between events) both say 40 / 100 and the rule after the 40th, at once and later."""
    release = asyncio.Event()

    async def quick_rules_then_a_slow_one(ctx) -> None:
        for done in range(1, 41):
            await ctx.progress(done, 100, f"xccdf_org.ssgproject.content_rule_r{done + 1}", now_iso())
        await release.wait()

    app = make_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await jobs_screen(pilot)
        app.jobs.runner.handlers = {"scan": quick_rules_then_a_slow_one}  # the real runner and store
        host = await app.workspace.store.require_host("legacy")
        (job,) = await app.jobs.scan([NewScanJob(host, "cis-level1-server", {}, 5)], here=True)
        table = screen.query_one("#jobs", KeyedTable)
        await wait_for(pilot, lambda: job.id in table and "40 / 100 rules · r41" in str(table.cells(job.id)[6]),
                       what="the list's progress")
        table.move_to(job.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailModal) and app.screen.job, what="details")
        modal = app.screen
        assert "Progress  40 / 100 rules · r41" in rendered(modal.query_one("#job-fields"))
        await pilot.pause(2.5)  # the details re-read the store meanwhile: the same numbers
        assert (await app.workspace.store.get_job(job.id)).progress_done == 40
        assert "Progress  40 / 100 rules · r41" in rendered(modal.query_one("#job-fields"))
        await pilot.press("escape")
        await pilot.pause()
        assert "40 / 100 rules · r41" in str(table.cells(job.id)[6])
        release.set()
        await wait_for(pilot, lambda: job.id not in app.jobs.live, what="the job's end")
