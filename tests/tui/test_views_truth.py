"""Issue 23, items 2, 4 and 13: the Dashboard's chart draws a day's scans, trends and Compare
say where content or profile changed, the rule cursor survives a refresh in view, and an
archive from 2012 shows its year and drives no card."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from core.domain.timeutil import to_iso
from core.workspace import Workspace
from tests.tui.helpers import (
    NOW,
    SCAN_IDS,
    UBUNTU_2204,
    Results,
    add_host,
    ago,
    make_app,
    seed_scan,
    settle,
)
from tui.screens.compare import CompareScreen
from tui.widgets.keyed_table import KeyedTable

NEWER = "4b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"  # web01's Level 1 scan on newer content
NEWER_CONTENT = "f" * 64


def uuid_of(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def plotted_columns(plot_text: str) -> list[int]:
    """Columns of the plot area (inside the frame) holding anything drawn, on any row."""
    lines = plot_text.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    left = lines[top].index("┌") + 1
    found = set()
    for line in lines[top + 1:bottom]:
        inner = line[left:line.rindex("│")]
        found.update(i for i, ch in enumerate(inner) if ch != " ")
    return sorted(found)


def card(screen, name: str) -> str:
    return str(screen.query_one(f"#card-{name}").render()).strip()


def text_of(widget) -> str:
    return widget.render().plain


# ---------------------------------------------------------------- item 2: the fleet chart

@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_fleet_chart_draws_twenty_scans_of_one_morning(data_dir, l1_results, l2_results, size):
    now = NOW.replace(hour=9)  # before noon: the old line's one point of the day lay right of the axis
    async with await Workspace.open(data_dir) as workspace:
        for n in range(20):
            await add_host(workspace, f"h{n:02d}", f"10.0.1.{n + 1}", **UBUNTU_2204)
            await seed_scan(workspace, f"h{n:02d}", l2_results if n % 3 == 0 else l1_results,
                            scan_id=uuid_of(n), created_at=to_iso(now - timedelta(hours=8, minutes=30 - 20 * n)))
    app = make_app(data_dir, clock=lambda: now)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        chart = app.screen.query_one("#trend")
        title, series = chart._last[0], chart._last[1]
        plot = chart.query_one("PlotextPlot")
        columns = plotted_columns(text_of(plot))
        width = plot.size.width - 5  # the y labels and the frame
        # 00:30 to 09:00 of a 12-hour axis: a line over two thirds of the plot, not a dot at its edge
        assert len(columns) > width // 2 and columns[0] < width // 3
        assert title.startswith("Fleet score, last 12 hours: 21 hosts")
        assert [len(s.points) for s in series] == [21, 21]  # a point as each scan came in, and now
        assert "fleet mean" in text_of(chart.query_one(".legend"))


# ---------------------------------------------------------------- item 4: content and profiles

async def _newer_content(data_dir, l1_results: Results):
    """web01 scanned again on Level 1, this time with a newer release of the same datastream."""
    async with await Workspace.open(data_dir) as workspace:
        scan = await seed_scan(workspace, "web01", l1_results, scan_id=NEWER, created_at=ago(0, 6))
        store = workspace.store
        await store.save_content(NEWER_CONTENT, scan.content_file, l1_results.found.benchmark_id, "0.1.76")
        await store.assign_content(NEWER, scan.profile_id, NEWER_CONTENT, scan.progress_total)
        return scan


async def test_a_content_change_is_marked_on_the_trend_and_named_in_compare(fleet_data, l1_results):
    before = await _newer_content(fleet_data, l1_results)
    file, version = before.content_file, before.content_version
    app = make_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_compliance("web01")
        await settle(pilot)
        chart = app.screen.query_one("#host-trend")
        newer = await app.workspace.store.get_scan(NEWER)
        assert chart._last[5] == [(newer.finished_at, newer.score, "SSG 0.1.76")]  # only where it changed
        assert "◆ new content: SSG 0.1.76" in text_of(chart.query_one(".legend"))
        assert "◆" in text_of(chart.query_one("PlotextPlot"))
        app.screen.query_one("#scans", KeyedTable).move_to(NEWER)
        await pilot.press("C")  # with the previous Level 1 scan
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        summary = text_of(app.screen.query_one("#compare-summary"))
        assert f"content changed: {file} (SSG {version}) → {file} (SSG 0.1.76)" in summary
        assert "profiles differ" not in summary


async def test_compare_and_diff_say_when_the_profiles_differ(fleet_data, l1_results, cli):
    await _newer_content(fleet_data, l1_results)
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(CompareScreen(SCAN_IDS["web-1"], SCAN_IDS["web-2"]))
        await settle(pilot)
        summary = " ".join(text_of(app.screen.query_one("#compare-summary")).split())
        assert "profiles differ: CIS Level 1 Server → CIS Level 2 Server" in summary
        assert "content changed" not in summary
    said = cli.ok("diff", SCAN_IDS["web-2"], SCAN_IDS["web-1"]).stdout
    assert "profiles differ: CIS Level 1 Server -> CIS Level 2 Server; rules only one" in said
    shown = cli.ok("diff", SCAN_IDS["web-1"], SCAN_IDS["web-2"], "--json").json()
    assert shown["same_profile"] is False and shown["same_content"] is True
    assert shown["older"]["profile"].endswith("cis_level1_server")
    said = cli.ok("diff", NEWER[:8]).stdout  # with the previous Level 1 scan, web-3
    assert "content changed: ssg-ubuntu2204-ds.xml (SSG 0.1.65) -> ssg-ubuntu2204-ds.xml (SSG 0.1.76)" in said
    assert "profiles differ" not in said
    shown = cli.ok("diff", NEWER, "--json").json()
    assert (shown["older"]["content_version"], shown["newer"]["content_version"]) == ("0.1.65", "0.1.76")


# ---------------------------------------------------------------- item 13: cursor, year, worst

def failing_only(results: Results, rules: set[str]) -> Results:
    """These results with every failure outside rules turned into a pass."""
    found = results.found
    kept = [r if r.result != "fail" or r.rule_id in rules else dataclasses.replace(r, result="pass")
            for r in found.results]
    return Results(results.arf, dataclasses.replace(found, results=kept))


def in_view(table: KeyedTable) -> bool:
    top = round(table.scroll_offset.y)
    return top <= table.cursor < top + table.size.height - 1  # the header takes a line


async def test_the_rule_cursor_keeps_its_rule_in_view_after_a_refresh(data_dir, l1_results):
    async with await Workspace.open(data_dir) as workspace:
        for n, name in enumerate(("a", "b", "c")):
            await add_host(workspace, name, f"10.0.2.{n + 1}", **UBUNTU_2204)
        for n, name in enumerate(("a", "b")):
            await seed_scan(workspace, name, l1_results, scan_id=uuid_of(100 + n), created_at=ago(3))
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", *["down"] * 6)
        rules = app.screen.query_one("#rules", KeyedTable)
        kept, order = rules.cursor_key, rules.keys
        assert rules.cursor == 6 and rules.size.height - 1 < 18
        # c fails twelve rules listed after it: they move ahead, and it to row 18, below the fold
        async with await Workspace.open(data_dir) as other:
            await seed_scan(other, "c", failing_only(l1_results, set(order[7:19])), scan_id=uuid_of(102),
                            created_at=ago(1))
        await pilot.press("r")
        await settle(pilot)
        assert rules.cursor_key == kept and rules.cursor == 18 and in_view(rules)
        await pilot.press("end")
        gone = rules.cursor_key
        async with await Workspace.open(data_dir) as other:  # only c's twelve rules fail now
            await other.store.remove_host("a")
            await other.store.remove_host("b")
        await pilot.press("r")
        await settle(pilot)
        assert gone not in rules.keys and rules.row_count == 12
        assert rules.cursor == 11 and in_view(rules)  # the nearest row that is left


async def test_an_archive_from_2012_shows_its_year_and_drives_no_card(fleet_data, l2_results):
    async with await Workspace.open(fleet_data) as workspace:
        await add_host(workspace, "archive", "10.0.3.1", **UBUNTU_2204)
        old = await seed_scan(workspace, "archive", l2_results, scan_id=uuid_of(2012),
                              created_at="2012-12-10T13:47:00.000000Z", profile="cis-level2-server")
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen, fleet = app.screen, app.screen.query_one("#fleet", KeyedTable)
        board = screen.board
        assert old.score < 58.3  # the lowest score of all: it would be the worst
        assert str(fleet.cells("archive")[4]) == "2012-12-10"  # the year, not "12-10 13:47"
        assert str(fleet.cells("db01")[4]) == "03-25 10:00"  # this year's stay short
        assert board.worst.host.name != "archive" and "archive" not in card(screen, "worst")
        assert board.mean == 58.3  # web01 and db01 only
        assert fleet.keys.index("archive") == 2  # after the hosts scanned lately, before the never scanned
        await pilot.press("4")
        await settle(pilot)
        jobs = app.screen.query_one("#jobs", KeyedTable)
        archived = next(k for k in jobs.keys if str(jobs.cells(k)[0]) == "archive")
        assert str(jobs.cells(archived)[4]) == "2012-12-10"
