"""Compliance screen: cards, chart, toolbar filters, table, details, exports, report, new scan."""

from __future__ import annotations

import csv
import json

from textual.widgets import Input, Select

from core.results.handover import copy_hint
from core.workspace import Workspace
from tests.tui.helpers import SCAN_IDS, add_host, make_app, settle, wait_for
from tui.modals.new_scan import NewScanModal
from tui.screens.compliance import ComplianceScreen
from tui.screens.results import ResultsScreen
from tui.widgets.cards import StatCard
from tui.widgets.keyed_table import KeyedTable


def card(screen, name: str) -> str:
    return str(screen.query_one(f"#card-{name}", StatCard).render())


async def open_host(pilot, host: str) -> ComplianceScreen:
    pilot.app.open_compliance(host)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ComplianceScreen) and screen.host == host
    return screen


async def test_cards_chart_and_table_of_the_selected_host(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_host(pilot, "web01")
        latest = await app.workspace.store.get_scan(SCAN_IDS["web-3"])
        assert card(screen, "total") == "4"
        assert card(screen, "score") == f"{latest.score:.1f}%"
        assert card(screen, "passed") == str(latest.counts["pass"])
        assert card(screen, "failed") == str(latest.counts["fail"])
        assert screen.query_one("#card-failed").has_class("-bad")
        table = screen.query_one("#scans", KeyedTable)
        assert table.keys == [SCAN_IDS[k] for k in ("web-fail", "web-3", "web-2", "web-1")]
        row = table.cells(SCAN_IDS["web-3"])
        assert str(row[0]) == SCAN_IDS["web-3"][:8]
        assert str(row[1]) == "completed" and str(row[5]) == "42"
        assert str(row[6]) == "2025-03-29 11:00" and "Results" in str(row[7]) and "Report" in str(row[7])
        failed = table.cells(SCAN_IDS["web-fail"])
        assert str(failed[1]) == "failed" and str(failed[2]) == "—"
        # colours follow the theme: completed green, failed red, score by band
        variables = app.theme_variables
        assert row[1].style.color.name.lower() == variables["text-success"].lower()
        assert failed[1].style.color.name.lower() == variables["text-error"].lower()
        chart = screen.query_one("#host-trend")
        title = chart._last[0]
        assert "CIS Level 1 Server" in title and "CIS Level 2 Server" in title
        assert [len(s.points) for s in chart._last[1]] == [2, 1]


async def test_a_failed_scan_shows_its_error_and_links_to_its_job_output(fleet_data):
    from tui.modals.job_detail import JobDetailModal

    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        table = screen.query_one("#scans", KeyedTable)
        assert table.cursor_key == SCAN_IDS["web-fail"]
        detail = str(screen.query_one("#scan-detail").render())
        assert "error: web01 (10.0.0.11:22) is unreachable: connection refused" in detail
        await pilot.press("enter")  # the spec's "Review error message in Jobs page"
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailModal), what="the job")
        await settle(pilot)
        error = str(app.screen.query_one("#job-error").render())
        assert "web01 (10.0.0.11:22) is unreachable: connection refused" in error
        assert app.screen.job.scan_id == SCAN_IDS["web-fail"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ComplianceScreen)


async def test_status_filter_and_scan_id_search_run_in_sql(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        table = screen.query_one("#scans", KeyedTable)
        await pilot.press("s")  # All -> Completed
        await settle(pilot)
        assert screen.query_one("#status-select", Select).value == "completed"
        assert len(table.keys) == 3
        await pilot.press("s", "s", "s")  # Running, Pending, Failed
        await settle(pilot)
        assert table.keys == [SCAN_IDS["web-fail"]]
        await pilot.press("s")  # back to All
        await pilot.press("slash", *SCAN_IDS["web-2"][:4])
        await settle(pilot)
        assert table.keys == [SCAN_IDS["web-2"]]
        await pilot.press("enter")  # leaves the search field for the table
        assert app.focused is table
        await pilot.press("escape")  # in a filtered table, esc clears the filter first (as k9s)
        await settle(pilot)
        assert screen.query_one("#scan-search", Input).value == "" and len(table.keys) == 4


async def test_host_selector_switches_host(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("up", "up", "enter")  # db01, legacy, localhost, web01
        await settle(pilot)
        select = screen.query_one("#host-select", Select)
        assert screen.host == select.value
        assert screen.host == "legacy"
        assert screen.query_one("#scans", KeyedTable).row_count == 0
        assert card(screen, "score") == "—"


async def test_enter_opens_results_and_esc_returns(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(pilot, "web01")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ResultsScreen) and app.screen.scan.id == SCAN_IDS["web-3"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_exports_write_the_visible_scans(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "web01")
        await pilot.press("s")  # completed only
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
    exports = sorted((fleet_data / "exports").iterdir())
    by_suffix = {p.suffix: p for p in exports}
    with by_suffix[".csv"].open() as f:
        rows = list(csv.DictReader(f))
    assert {r["id"] for r in rows} == {SCAN_IDS[k] for k in ("web-1", "web-2", "web-3")}
    data = json.loads(by_suffix[".json"].read_text())
    assert len(data) == 3 and all(item["status"] == "completed" for item in data)
    assert any(str(by_suffix[".csv"]) in m for m in messages)


async def test_report_is_written_and_its_path_shown(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "web01")
        await pilot.press("down", "o")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        widget = app.screen.query_one("#last-file")
        last = str(widget.render())  # stays after the notice goes
        shown = "".join(widget.render_line(y).text for y in range(widget.size.height))
    (report,) = (fleet_data / "reports").glob("*.html")
    assert SCAN_IDS["web-3"][:8] in report.name
    assert any(str(report) in m for m in messages)
    assert f"last file {report.name}" in last and "scp " in last and f":{report} ." in last
    # the scp line is whole on screen at 80 columns (folded, never cut with an ellipsis)
    assert "".join(copy_hint(report).split()) in "".join(shown.split()) and "…" not in shown


async def test_new_scan_without_detected_os_offers_detect(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "legacy")
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, NewScanModal)
        assert modal.query_one("#scan-host", Select).value == "legacy"
        note = str(modal.query_one("#profile-note").render())
        assert "not detected" in note and "Press O" in note
        assert modal.query_one("#detect").display and modal.query_one("#create").disabled
        # changing the host re-reads the profiles: web01 runs Ubuntu 22.04
        modal.query_one("#scan-host", Select).value = "web01"
        await settle(pilot)
        options = modal.query_one("#profiles")
        titles = [str(o.prompt) for o in options.options]
        # every profile of its content under a heading per framework, CIS's two Server levels first
        assert titles[0] == "CIS" and "Standard" in titles
        assert "Level 1 Server" in titles[1] and "189 rules" in titles[1]
        assert "Level 2 Server" in titles[2]
        assert options.highlighted == 1
        assert not modal.query_one("#create").disabled


async def test_host_without_content_explains_what_to_install(data_dir):
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "bookworm", os_id="debian", os_version="12",
                       os_name="Debian GNU/Linux 12 (bookworm)", os_family="debian")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(pilot, "bookworm")
        await pilot.press("n")
        await settle(pilot)
        note = str(app.screen.query_one("#profile-note").render())
        assert "Debian 12" in note and "ssg-debian" in note
