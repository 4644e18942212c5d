"""Real scans from the TUI against the test fleet (sshd + sudo + oscap on loopback)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from core.domain.models import JobStatus, ScanStatus
from core.jobs import queue
from core.workspace import Workspace
from tests.tui.helpers import add_host, make_app, settle, wait_for
from tui.modals.bulk_scan import BulkScanModal
from tui.modals.check_report import CheckReportModal
from tui.modals.confirm import ConfirmModal
from tui.modals.help import HelpModal
from tui.modals.new_scan import NewScanModal
from tui.screens.hosts import HostsScreen
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.run_choice import RunChoice

pytestmark = pytest.mark.fleet


async def add_fleet_hosts(data_dir, fleet, *names: str) -> None:
    async with await Workspace.open(data_dir) as workspace:
        for name in names:
            await add_host(workspace, name, "127.0.0.1", port=fleet.hosts[name].port,
                           username="scanner", identity_file=str(fleet.client_key))


async def test_check_trust_and_detect(data_dir, fleet, home):
    await add_fleet_hosts(data_dir, fleet, "u2204")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#hosts", KeyedTable).move_to("u2204")
        await pilot.press("c")  # the host key is not trusted yet
        await settle(pilot)
        report = app.screen
        assert isinstance(report, CheckReportModal) and not report.report.ready
        assert "unknown host key" in report.report.error
        await pilot.press("escape", "t")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and "SHA256:" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert fleet.hosts["u2204"].known_hosts_line().split()[2] in (home / ".ssh/known_hosts").read_text()
        await pilot.press("c")
        await settle(pilot)
        report = app.screen.report
        assert report.ready and report.sudo and report.oscap_version.startswith("OpenSCAP")
        assert report.host_key == "trusted"
        await pilot.press("escape")
        await settle(pilot)
        row = screen.query_one("#hosts", KeyedTable).cells("u2204")  # Check filled the OS in
        assert str(row[4]) == "Ubuntu 22.04" and str(row[5]) == "online"
        await pilot.press("O")
        await settle(pilot)
        row = screen.query_one("#hosts", KeyedTable).cells("u2204")
        assert str(row[4]) == "Ubuntu 22.04" and str(row[5]) == "online"


async def test_a_changed_host_key_is_shown_as_changed_and_never_offered(data_dir, fleet, home, tmp_path):
    from tests.fleet.hosts import make_client_key
    from tui.modals.message import MessageModal

    impostor = make_client_key(tmp_path / "impostor").with_suffix(".pub").read_text().split()
    known = home / ".ssh" / "known_hosts"
    known.parent.mkdir(exist_ok=True)
    known.write_text(f"[127.0.0.1]:{fleet.hosts['u2204'].port} {impostor[0]} {impostor[1]}\n")
    await add_fleet_hosts(data_dir, fleet, "u2204")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        app.screen.query_one("#hosts", KeyedTable).move_to("u2204")
        await pilot.press("c")
        await settle(pilot)
        report = app.screen
        assert isinstance(report, CheckReportModal) and report.report.host_key == "changed"
        assert report.report.authenticated is None  # not "authenticated: no"
        await pilot.press("escape", "t")
        await settle(pilot)
        message = app.screen
        assert isinstance(message, MessageModal) and message.title_text == "HOST KEY CHANGED"
        assert "DIFFERENT key" in message.text and "SHA256:" in message.text
        await pilot.press("y")  # nothing to confirm: y does not trust it
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, MessageModal)
    assert known.read_text().count("\n") == 1 and impostor[1] in known.read_text()


async def test_new_scan_shows_live_progress_then_results(data_dir, fleet, known_hosts):
    await add_fleet_hosts(data_dir, fleet, "u2204")
    app = make_app(data_dir)
    seen: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_compliance("u2204")
        await settle(pilot)
        screen = app.screen
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, NewScanModal)
        assert "not detected" in str(modal.query_one("#profile-note").render())
        await pilot.press("O")  # detect the OS from the modal
        await wait_for(pilot, lambda: modal.choices, what="profiles after detection")
        await pilot.press("enter")  # the highlighted profile: CIS Level 1 Server
        await pilot.pause()
        assert app.screen is screen
        table = screen.query_one("#scans", KeyedTable)

        def progress_shown() -> bool:
            for key in table.keys:
                text = str(table.cells(key)[7])
                if " / 189 rules" in text:
                    seen.append(text)
            return bool(table.keys) and str(table.cells(table.keys[0])[1]) == "completed"

        await wait_for(pilot, progress_shown, timeout=120, what="the scan to complete")
        assert seen, "no live rule progress was shown"
        assert str(table.cells(table.keys[0])[2]) != "—"
        scan = await app.workspace.store.get_scan(table.keys[0])
        assert scan.status is ScanStatus.COMPLETED and scan.progress_total == 189


async def test_bulk_scan_of_selected_hosts(data_dir, fleet, known_hosts):
    await add_fleet_hosts(data_dir, fleet, "u2204", "u2004")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#hosts", KeyedTable)
        for name in ("u2004", "u2204"):
            table.move_to(name)
            await pilot.press("space")
        await pilot.press("b")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, BulkScanModal) and modal.query_one(".bulk").border_title == "Bulk Scan (2)"
        assert modal.query_one(RunChoice).here  # no worker runs: in this app
        await pilot.press("ctrl+s")  # CIS Level 1 Server is highlighted
        await wait_for(pilot, lambda: len(modal.followed) == 2, what="scan creation")
        assert "created 2 scans, in this app" in str(modal.query_one("#creating-label").render())
        await wait_for(pilot, lambda: all(j.status.finished for j in modal.followed.values()),
                       timeout=180, what="both scans")
        hosts = modal.query_one("#bulk-hosts", KeyedTable)
        states = [str(hosts.cells(name)[3]) for name in ("u2004", "u2204")]
        assert all(s.startswith("completed") for s in states), states
        assert "All 2 scans finished (2 completed)" in str(modal.query_one("#creating-label").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HostsScreen) and screen.selected == set()
        scores = {name: str(table.cells(name)[-1]) for name in ("u2004", "u2204")}
        assert all(s != "—" for s in scores.values()), scores


async def test_auto_refresh_picks_up_a_scan_run_by_another_process(data_dir, fleet, known_hosts, cli):
    await add_fleet_hosts(data_dir, fleet, "u2204")
    app = make_app(data_dir, refresh_seconds=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_compliance("u2204")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#scans", KeyedTable)
        assert table.row_count == 0 and screen._refresh_timer is None  # nothing to watch
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", "scan", "u2204", "--profile", "cis-level1-server",
            env=cli.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        store = app.workspace.store
        for _ in range(200):
            if await store.find_scans(host="u2204"):
                break
            await asyncio.sleep(0.1)
        await pilot.press("r")  # one manual refresh: the CLI's scan appears, unfinished
        await wait_for(pilot, lambda: table.row_count == 1, what="the CLI's scan")
        assert str(table.cells(table.keys[0])[1]) in ("pending", "running")
        assert screen._refresh_timer is not None
        # a modal pauses the refresh
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpModal) and screen._refresh_timer is None
        await pilot.press("escape")
        await pilot.pause()
        # from here no key is pressed: the screen refreshes itself until the scan is done
        await wait_for(pilot, lambda: str(table.cells(table.keys[0])[1]) == "completed",
                       timeout=120, what="auto-refresh to show the completed scan")
        assert await process.wait() == 0
        assert str(screen.query_one("#card-total").render()) == "1"
        await pilot.pause(0.5)
        assert screen._refresh_timer is None  # nothing unfinished: no more refreshes


async def start_scan_here(app, pilot, host: str, profile: str = "cis-level2-server") -> str:
    """A scan run by the app's own runner; returns its scan id once rules are being evaluated."""
    wanted = await queue.scan_requests(app.workspace, [host], profile)
    (job,) = await app.jobs.scan(wanted, here=True)
    await wait_for(pilot, lambda: app.jobs.live.get(job.id) and app.jobs.live[job.id].progress_done,
                   timeout=60, what="the scan to run")
    return job.scan_id


async def test_quit_cancels_running_scans(data_dir, fleet, known_hosts):
    await add_fleet_hosts(data_dir, fleet, "u2204")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        scan_id = await start_scan_here(app, pilot, "u2204")
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "This app runs 1 job" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
    async with await Workspace.open(data_dir) as workspace:
        scan = await workspace.store.get_scan(scan_id)
        job = await workspace.store.job_for_scan(scan_id)
    assert scan.status is ScanStatus.FAILED and "stopped before it finished" in scan.error_message
    assert job.status is JobStatus.CANCELLED


async def test_exit_without_quit_key_still_ends_the_jobs(data_dir, fleet, known_hosts):
    """A hangup or ctrl+c exits without the q dialog: the job must still end, its scan failed."""
    await add_fleet_hosts(data_dir, fleet, "u2204")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        scan_id = await start_scan_here(app, pilot, "u2204")
        app.exit()
    async with await Workspace.open(data_dir) as workspace:
        scan = await workspace.store.get_scan(scan_id)
        counts = await workspace.store.job_status_counts()
    assert scan.status is ScanStatus.FAILED and "stopped before it finished" in scan.error_message
    assert set(counts) == {"cancelled"}
