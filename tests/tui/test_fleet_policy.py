"""Issue 14 in the TUI: the Dashboard of the fleet, the Schedules screen and its form, two
scans compared, exceptions in the results, and the app enqueueing due schedules once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from core.domain.models import Host
from core.domain.timeutil import to_iso
from core.workspace import Workspace
from tests.conftest import free_port
from tests.tui.helpers import NOW, SCAN_IDS, make_app, settle, wait_for
from tests.tui.seed_policy import EXCEPTED_RULE, seed_policy
from tui.modals.schedule_form import ScheduleFormModal
from tui.screens.compare import CompareScreen
from tui.screens.compliance import ComplianceScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.results import ResultsScreen
from tui.screens.schedules import SchedulesScreen
from tui.widgets.cards import StatCard
from tui.widgets.keyed_table import KeyedTable


@pytest.fixture
async def policy_data(fleet_data) -> Path:
    await seed_policy(fleet_data)
    return fleet_data


def card(screen, name: str) -> str:
    return str(screen.query_one(f"#card-{name}", StatCard).render())


async def test_dashboard_ranks_hosts_shows_gaps_and_jumps_from_a_rule_to_its_hosts(policy_data):
    app = make_app(policy_data)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        board = screen.board
        assert card(screen, "hosts") == "4" and card(screen, "recent") == "2 / 4"
        assert card(screen, "missing") == "1 · 2 never"  # web01 missed Monday's slot; legacy, localhost never
        assert board.overdue == ["web01"] and sorted(board.never) == ["legacy", "localhost"]
        fleet = screen.query_one("#fleet", KeyedTable)
        assert fleet.keys == ["db01", "web01", "legacy", "localhost"]  # worst first, never scanned last
        web = await app.workspace.store.get_scan(SCAN_IDS["web-3"])
        assert str(fleet.cells("web01")[1]) == f"{web.score + 0.3:.1f}"  # the excepted failure is left out
        assert str(fleet.cells("web01")[4]) == "overdue" and str(fleet.cells("db01")[4]) == "03-25 10:00"
        assert str(fleet.cells("web01")[2]).strip()  # its sparkline has days
        assert board.excepted == 1 and "1 excepted" in screen.query_one("#trend")._last[0]
        # a point as each of the four completed scans came in, held until now
        assert [len(s.points) for s in screen.query_one("#trend")._last[1]] == [5, 5]
        rules = screen.query_one("#rules", KeyedTable)
        assert rules.row_count == 20 and EXCEPTED_RULE not in rules.keys[:5]
        await pilot.press("tab")
        assert app.focused is rules
        await pilot.press("enter")
        chosen = rules.cursor_key
        assert screen.rule_filter == chosen and app.focused is fleet
        assert set(fleet.keys) == set(next(r.hosts for r in board.rules if r.rule_id == chosen))
        await pilot.press("escape")
        assert screen.rule_filter is None and fleet.row_count == 4
        fleet.move_to("web01")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ComplianceScreen) and app.screen.host == "web01"


async def test_schedules_list_add_pause_and_delete(policy_data):
    app = make_app(policy_data)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SchedulesScreen)
        table = screen.query_one("#schedules", KeyedTable)
        assert table.row_count == 3
        weekly = table.cells(table.keys[0])
        assert [str(c) for c in weekly[1:]] == ["tag web", "CIS L1", "weekly mon@02:00", "04-07 00:00",
                                               "03-31 00:00", "1 failed"]
        assert str(table.cells(table.keys[1])[4]) == "paused" and str(table.cells(table.keys[2])[6]) == "never ran"
        assert "next Mon 2025-04-07 02:00 Europe/Berlin" in str(screen.query_one("#schedule-detail").render())

        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ScheduleFormModal)
        await pilot.press("ctrl+s")  # no target: said with the form's fields, not the CLI's flags
        await settle(pilot)
        error = str(form.query_one("#form-error").render())
        assert error == 'give the schedule\'s target: fill in "Hosts or tag", or choose All hosts as the Target'
        form.query_one("#f-targets", Input).value = "db01, web01"
        form.query_one("#f-cadence", Select).value = "daily"
        form.query_one("#f-when", Input).value = "25:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "invalid time '25:00' for a daily cadence" in str(form.query_one("#form-error").render())
        form.query_one("#f-when", Input).value = "04:15"
        form.query_one("#f-tz", Input).value = "America/New_York"
        form.query_one("#f-notify", Input).value = "ops, Mail"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'Mail' is not a target name" in str(form.query_one("#form-error").render())
        form.query_one("#f-notify", Input).value = "ops, mail"
        form.query_one("#f-heartbeat", Select).value = "every"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and table.row_count == 4
        added = await app.workspace.store.get_schedule(table.cursor_key)
        assert (added.targets, added.cadence, added.tz) == (("db01", "web01"), "daily 04:15", "America/New_York")
        assert (added.notify, added.heartbeat) == (("ops", "mail"), True)
        assert "alerts to ops, mail after every run" in str(screen.query_one("#schedule-detail").render())

        await pilot.press("p")
        await settle(pilot)
        assert (await app.workspace.store.get_schedule(added.id)).paused
        assert str(table.cells(added.id)[4]) == "paused"
        await pilot.press("p")
        await settle(pilot)
        assert not (await app.workspace.store.get_schedule(added.id)).paused
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert table.row_count == 3 and added.id not in table.keys


async def test_two_marked_scans_or_the_previous_one_compare(policy_data):
    app = make_app(policy_data)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_compliance("web01")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#scans", KeyedTable)
        table.move_to(SCAN_IDS["web-3"])
        await pilot.press("C")  # with the previous completed scan of its profile
        await settle(pilot)
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert (compare.comparison.older.id, compare.comparison.newer.id) == (SCAN_IDS["web-1"], SCAN_IDS["web-3"])
        assert compare.query_one("#changes", KeyedTable).row_count == 0  # the same results: nothing changed
        await pilot.press("f", "f", "f")  # still failing
        rows = compare.query_one("#changes", KeyedTable)
        assert rows.row_count == compare.comparison.count("still_failing") > 0
        assert str(rows.cells(f"still_failing:{EXCEPTED_RULE}")[5]) == "fail exc"
        await pilot.press("escape")
        await settle(pilot)
        table.move_to(SCAN_IDS["web-2"])
        await pilot.press("space")
        table.move_to(SCAN_IDS["web-1"])
        await pilot.press("space")
        assert "marked" in str(table.cells(SCAN_IDS["web-2"])[7])
        await pilot.press("C")
        await settle(pilot)
        comparison = app.screen.comparison
        assert comparison.newer.id == SCAN_IDS["web-2"] and comparison.count("added") > 0  # L2 has more rules
        assert "newly failing" in str(app.screen.query_one("#compare-summary").render())


async def test_results_show_an_excepted_failure(policy_data):
    app = make_app(policy_data)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        scan = await app.workspace.store.get_scan(SCAN_IDS["web-3"])
        await app.push_screen(ResultsScreen(scan))
        await settle(pilot)
        rows = app.screen.query_one("#rules", KeyedTable)
        assert str(rows.cells(EXCEPTED_RULE)[4]) == "fail exc"


async def test_the_open_app_enqueues_a_due_slot_once_and_runs_it_without_a_worker(policy_data):
    async with await Workspace.open(policy_data) as workspace:
        # on loopback with nothing listening: the scan the app runs fails at once, going nowhere
        await workspace.store.add_host(Host(name="lab1", address="127.0.0.1", port=free_port(), tags=("lab",)))
        (weekly, _paused, _cron) = await workspace.store.find_schedules()
        await workspace.store.update_schedule(replace(weekly, targets=("lab",), cadence="daily 11:00", tz="UTC",
                                                      not_before=to_iso(NOW - timedelta(days=3))))
    app = make_app(policy_data)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.schedules.enqueued == 1, what="the first look enqueues the slot")
        assert await app.schedules.run_once() == 0
        jobs, _ = await app.workspace.store.find_jobs()
        mine = [j for j in jobs if j.params.get("slot") == "2025-03-31T11:00:00.000000Z"]
        assert [j.host_name for j in mine] == ["lab1"] and mine[0].lease_owner == app.jobs.runner.owner
