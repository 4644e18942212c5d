"""The TUI as an operator expects it (issue 12): filters that show, esc that clears them first,
q that leaves a view before it quits, ctrl+c, and the cursor on the first match."""

from __future__ import annotations

from textual.widgets import Button, Input

from tests.tui.helpers import SCAN_IDS, make_app, settle, wait_for
from tui.modals.confirm import ConfirmModal
from tui.screens.compliance import ComplianceScreen
from tui.screens.hosts import HostsScreen
from tui.screens.results import ResultsScreen
from tui.widgets.keyed_table import KeyedTable


async def open_host(pilot, host: str) -> ComplianceScreen:
    await settle(pilot)
    pilot.app.open_compliance(host)
    await settle(pilot)
    return pilot.app.screen


async def test_a_scan_search_shows_clears_with_esc_and_goes_with_the_host(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        table = screen.query_one("#scans", KeyedTable)
        await pilot.press("slash", *"zzz", "enter")
        await settle(pilot)
        assert table.row_count == 0 and table.empty_text == "no scans match id zzz… (esc clears)"
        assert screen.query_one("#scan-search", Input).has_class("-active")
        await pilot.press("escape")  # clears the search first
        await settle(pilot)
        assert screen.query_one("#scan-search", Input).value == "" and table.row_count == 4
        assert isinstance(app.screen, ComplianceScreen)
        await pilot.press("slash", *SCAN_IDS["web-1"][:3], "enter")
        await settle(pilot)
        assert table.keys == [SCAN_IDS["web-1"]]
        screen.select_host("db01")  # the search was about web01's scans: it goes
        await settle(pilot)
        assert screen.query_one("#scan-search", Input).value == "" and table.keys == [SCAN_IDS["db-1"]]


async def test_after_a_search_the_cursor_is_on_the_first_match(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        table = screen.query_one("#scans", KeyedTable)
        table.action_jump(-1)
        await pilot.press("s")  # completed only
        await settle(pilot)
        assert table.cursor == 0


async def test_q_leaves_results_then_quits_and_ctrl_c_quits(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "web01")
        scan = await app.workspace.store.get_scan(SCAN_IDS["web-3"])
        await app.push_screen(ResultsScreen(scan))
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ComplianceScreen) and app.is_running
        await app.push_screen(ResultsScreen(scan))
        await settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0


async def test_quit_keys_ask_while_this_app_runs_jobs(fleet_data):
    from core.jobs import queue

    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.jobs.runner.stop()  # nothing runs them: they stay queued for this app
        wanted = await queue.scan_requests(app.workspace, ["legacy"], "cis-level1-server")
        await app.jobs.scan(wanted, here=True)
        await pilot.pause()
        for key in ("q", "ctrl+c"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal) and "This app runs 1 job" in app.screen.question
            await pilot.press("n")
            await pilot.pause()
        for screen in "123456":  # q asks on every top screen, as ctrl+c does
            await pilot.press(screen, "q")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmModal) and app.screen.title_text == "Quit", screen
            assert [str(b.label) for b in app.screen.query(Button)] == ["Quit (y)", "Stay (n)"]
            await pilot.press("n")
            await pilot.pause()
        assert app.is_running


async def test_a_host_filter_says_why_the_table_is_empty_and_esc_clears_it(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HostsScreen)
        await pilot.press("slash", *"nomatch", "enter")
        await settle(pilot)
        table = screen.query_one("#hosts", KeyedTable)
        assert table.row_count == 0 and "no hosts match 'nomatch' (esc clears)" == table.empty_text
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == 4, what="all hosts again")


async def test_small_things_seen(fleet_data):
    from tui.modals.new_scan import NewScanModal
    from tui.widgets.chip import Chip

    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        scan = await app.workspace.store.get_scan(SCAN_IDS["web-3"])
        await app.push_screen(ResultsScreen(scan))
        await settle(pilot)
        results = app.screen
        assert "score 58.3%" in str(results.query_one("#results-title").render())  # kept at 80 columns
        severities = [value for _text, value in results.query_one("#severity-filter", Chip).options]
        assert severities == ["all", "high", "medium", "low", "info", "unknown"]
        palette = app.palette
        assert palette.severity("medium").style.color != palette.result("error").style.color
        table = results.query_one("#rules", KeyedTable)
        failed = next(k for k in table.keys if str(table.cells(k)[4]) == "fail")
        table.move_to(failed)
        await pilot.press("space")
        assert table.cursor_key == failed  # space selects and stays
        await pilot.press("escape")
        await settle(pilot)
        await open_host(pilot, "legacy")  # no OS detected: nothing to scan with, and it says why
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NewScanModal)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any("nothing to scan with: legacy: detect its OS first (O)" in n.message
                   for n in app._notifications)
        assert isinstance(app.screen, NewScanModal)
        del screen


async def test_the_scan_table_uses_the_specs_names_when_wide(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_host(pilot, "web01")
        header = str(screen.query_one("#scans", KeyedTable).render_line(0).text)
        assert "Passed" in header and "Failed" in header and "Duration" in header
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        header = str(screen.query_one("#scans", KeyedTable).render_line(0).text)
        assert "Pass" in header and "Dur s" in header
