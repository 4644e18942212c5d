"""The app shell: number keys, help, palette, esc, quit, the placeholder screens, settings."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Static

from tests.tui.helpers import make_app, settle, wait_for
from tui.modals.help import HelpModal
from tui.screens.compliance import ComplianceScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.hosts import HostsScreen
from tui.screens.jobs import JobsScreen
from tui.screens.schedules import SchedulesScreen
from tui.screens.settings import SettingsScreen
from tui.widgets.keyed_table import KeyedTable


async def test_number_keys_reach_every_screen_and_esc_goes_back(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        for key, screen in (("2", HostsScreen), ("3", ComplianceScreen), ("4", JobsScreen),
                            ("5", SchedulesScreen), ("6", SettingsScreen), ("1", DashboardScreen)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen), key
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # back to the screen visited before


async def test_an_empty_screen_says_what_to_do(data_dir):
    from tui.widgets.keyed_table import KeyedTable

    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")  # Schedules (issue 14) replaced its "not yet available" placeholder
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(KeyedTable).empty_text == "no schedules yet: press a to add a recurring scan"
        assert "0 schedules" in " ".join(str(w.render()) for w in app.screen.query(Static))


async def test_help_lists_every_key_of_the_screen(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpModal)
        text = " ".join(f"{key} {description}" for _group, key, description in app.screen.entries)
        for description in ("Add", "Edit", "Delete", "Detect", "Check", "Select", "Bulk Scan",
                            "Import", "trust the host", "scans", "Search", "Help", "Quit", "ctrl+p"):
            assert description in text, description
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)


async def test_command_palette_goes_to_a_screen(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"go to settings")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="settings")


async def test_number_keys_type_into_a_search_field(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "slash", "1", "2")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        assert app.screen.query_one("#host-filter").value == "12"


async def test_settings_show_paths_limits_and_discovered_content(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        facts = str(app.screen.query_one("#settings-facts").render())
        assert str(data_dir) in facts and "Scan timeout" in facts and "3600" in facts
        assert "/usr/share/xml/scap/ssg/content" in facts
        assert "AI assistant   off: no model named" in str(app.screen.query_one("#ai-facts").render())
        table = app.screen.query_one("#content", KeyedTable)
        assert table.row_count > 0
        rows = {table.cells(key)[0]: table.cells(key) for key in table.keys}
        assert rows["ubuntu2204"][2] == "Level 1 and Level 2"
        assert rows["ubuntu2204"][3] == "ssg-ubuntu2204-ds.xml"
        assert table.cells(table.keys[0])[2] != "—"  # CIS content listed first


async def test_quit_closes_the_workspace(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_theme_change_recolours_the_cells(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_compliance("web01")
        await settle(pilot)
        table = app.screen.query_one("#scans", KeyedTable)
        key = table.keys[1]
        app.theme = "textual-light"
        await settle(pilot)
        colour = table.cells(key)[1].style.color.name.lower()
        assert colour == app.theme_variables["text-success"].lower()


async def test_an_unusable_data_dir_exits_with_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    app = make_app(blocker / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert app.return_code == 1


async def test_command_palette_runs_screen_actions(data_dir):
    from tui.modals.host_form import HostFormModal

    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"add host")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostFormModal), what="the host form")
        assert isinstance(app.screen_stack[0], HostsScreen)


async def test_command_palette_follows_the_current_screen(data_dir):
    from tui.commands import ScreenCommands

    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = {}
        for key in ("4", "2"):
            await pilot.press(key)
            await settle(pilot)
            provider = ScreenCommands(app.screen)
            titles[key] = [title for title, _help, _run in provider._commands()]
        assert titles["4"][0] == "The job's details and its whole output log"
        assert "Cancel the selected job (asks first)" in titles["4"]
        assert "Cancel the selected job (asks first)" not in titles["2"]
        assert "Go to Jobs" in titles["2"] and "Add host" in titles["2"]


async def test_help_lists_the_palette_and_the_number_keys_once(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "question_mark")
        await pilot.pause()
        keys = [key for _group, key, _description in app.screen.entries]
        assert keys.count("ctrl+p") == 1 and keys.count("1-6") == 1
        assert not any(key in ("1", "2", "3") for key in keys)
