"""Bulk Scan's progress, readable at 80x24: as wide as the terminal, one line per host, a list
that scrolls from the keyboard, bars that stop where a scan ended, the whole error on demand.
The real scans of the fleet are in tests/tui/test_scans.py; here the jobs are the store's."""

from __future__ import annotations

from core.domain.models import Job
from core.workspace import Workspace
from tests.seed import seed_job
from tests.tui.helpers import UBUNTU_2204, add_host, ago, make_app, settle, wait_for
from tui.modals.bulk_scan import TRACK, BulkScanModal
from tui.modals.job_detail import JobDetailModal
from tui.widgets.keyed_table import KeyedTable

HOSTS = [f"app-server-{n:02d}.eu-west-1.prod.example.com" for n in range(20)]
ERROR = ("{host} (10.0.0.{n}:22) is unreachable: nothing listens on that port: check the port, "
         "and that sshd runs")


async def seed(data_dir) -> None:
    """Twenty hosts: the even ones failed (half of them mid-scan, at 60 of 189 rules), the odd
    ones completed."""
    async with await Workspace.open(data_dir) as workspace:
        for n, name in enumerate(HOSTS):
            host = await add_host(workspace, name, f"10.0.0.{n}", **UBUNTU_2204)
            job = await seed_job(workspace.store, host, created_at=ago(0, 1))
            failed = n % 2 == 0
            done = 60 if n % 4 == 0 else 189 if not failed else 0
            if done:
                await workspace.store.record_progress(job.id, done, 189, None, None, "")
            await workspace.store.finish_job(job.id, "failed" if failed else "completed",
                                             ERROR.format(host=name, n=n) if failed else None)


async def opened(pilot) -> BulkScanModal:
    """The Bulk Scan of HOSTS, started, following their jobs."""
    app = pilot.app
    await settle(pilot)
    store = app.workspace.store
    jobs: list[Job] = (await store.find_jobs())[0]
    modal = BulkScanModal([await store.require_host(name) for name in HOSTS])
    await app.push_screen(modal)
    await settle(pilot)
    modal.show_started("cis-level1-server")
    modal.follow(jobs, "cis-level1-server", here=True)
    await settle(pilot)
    return modal


async def test_each_host_is_one_line_and_the_list_scrolls_from_the_keyboard(data_dir):
    await seed(data_dir)
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await opened(pilot)
        box, table = modal.query_one(".bulk"), modal.query_one("#bulk-hosts", KeyedTable)
        assert box.region.width == 76 and box.region.bottom <= 24  # the terminal's width less margins
        assert app.focused is table and table.region.height == 24 - 11  # the rest of the screen
        assert "All 20 scans finished (10 completed, 10 failed)" in str(modal.query_one("#creating-label").render())
        cell = str(table.cells(HOSTS[0])[3])
        assert cell.startswith("failed: (10.0.0.0:22) is unreachable") and "\n" not in cell
        await pilot.press("j", "down")
        assert table.cursor == 2
        await pilot.press("pagedown", "pagedown")
        assert table.cursor > 12 and table.scroll_offset.y > 0  # the last hosts are in sight
        await pilot.press("k", "up", "pageup", "pageup")
        assert table.cursor == 0 and table.scroll_offset.y == 0
        # the highlighted host's whole error, under the list
        detail = str(modal.query_one("#bulk-detail").render())
        assert ERROR.format(host=HOSTS[0], n=0)[:100] in detail.replace("\n", " ")


async def test_bars_stop_where_a_scan_ended_and_enter_opens_its_job(data_dir):
    await seed(data_dir)
    app = make_app(data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        modal = await opened(pilot)
        table = modal.query_one("#bulk-hosts", KeyedTable)
        bars = {name: table.cells(name)[1] for name in HOSTS[:4]}
        track = app.palette.style(TRACK)
        # a bar is text, so it cannot animate; its coloured part is where the scan got to
        assert [str(table.cells(name)[2]) for name in HOSTS[:4]] == ["60 / 189", "189 / 189", "", "189 / 189"]
        assert [sum(s.end - s.start for s in bar.spans if s.style != track) for bar in bars.values()] == \
            [5, 16, 0, 16]
        await pilot.pause(1.5)  # the store is read again meanwhile: nothing moves
        assert {name: table.cells(name)[1] for name in HOSTS[:4]} == bars
        assert modal.query_one(".bulk").region.width == 116
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailModal) and app.screen.job, what="the job")
        assert app.screen.job.host_name == HOSTS[1]
