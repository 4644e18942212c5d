"""The Action log view (issue 27): opened from Jobs with L, newest first, filtered by action and
subject, hostile text shown as text, and V checking the chain: intact, then broken once an entry
is deleted (the test drops the append-only trigger first, as an attacker owning the file can)."""

from __future__ import annotations

from textual.widgets import Input, Static

from core.domain.audit import NewEntry
from tests.tui.helpers import make_app, settle
from tests.tui.seed_audit import ENTRIES, seed_audit
from tui.modals.message import MessageModal
from tui.screens.audit import AuditScreen
from tui.widgets.chip import Chip
from tui.widgets.keyed_table import KeyedTable


async def audit_screen(pilot) -> AuditScreen:
    await settle(pilot)
    await pilot.press("4", "L")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AuditScreen)
    return pilot.app.screen


def column(table: KeyedTable, index: int) -> list[str]:
    return [str(table.cells(k)[index]) for k in table.keys]


async def test_the_log_newest_first_filtered_by_action_and_subject(fleet_data):
    await seed_audit(fleet_data)
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await audit_screen(pilot)
        table = screen.query_one("#audit", KeyedTable)
        assert column(table, 0) == [str(n) for n in range(len(ENTRIES), 0, -1)]
        assert column(table, 3)[0] == "settings.changed"
        await pilot.press("f")  # all -> host
        await settle(pilot)
        assert screen.query_one("#audit-action", Chip).value == "host"
        assert column(table, 3) == ["host.edited", "host.added"]  # not hostkey.trusted
        await pilot.press("f")  # -> hostkey
        await settle(pilot)
        assert column(table, 3) == ["hostkey.trusted"]
        await pilot.press("escape")  # clears the filter first
        await settle(pilot)
        assert table.row_count == len(ENTRIES) and isinstance(app.screen, AuditScreen)
        await pilot.press("slash", *"web01", "enter")
        await settle(pilot)
        assert screen.query_one("#audit-subject", Input).value == "web01"
        assert column(table, 3) == ["fix.applied", "fix.requested", "scan.started", "hostkey.trusted", "host.added"]
        await pilot.press("escape", "escape")  # clears the subject, then back to Jobs
        await settle(pilot)
        assert not isinstance(app.screen, AuditScreen)


async def test_hostile_text_is_shown_as_text(fleet_data):
    await seed_audit(fleet_data)
    app = make_app(fleet_data)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await audit_screen(pilot)
        table = screen.query_one("#audit", KeyedTable)
        row = table.cells("8")
        assert str(row[4]) == "[bold red]web\\x1b[31m01[/]"  # the escape made visible, the markup as text
        assert not row[4].spans  # no markup ran: no styles
        assert "[link=x]y[/link]" in str(row[5])
        table.move_to("8")
        await settle(pilot)
        detail = screen.query_one("#audit-detail", Static).render()
        assert "[bold red]web" in str(detail) and "\x1b" not in str(detail)


async def test_verify_says_intact_then_finds_a_deleted_entry(fleet_data):
    await seed_audit(fleet_data)
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await audit_screen(pilot)
        await pilot.press("V")
        await settle(pilot)
        assert isinstance(app.screen, MessageModal)
        assert "intact: 9 entries" in app.screen.text and "Head: seq 9" in app.screen.text
        await pilot.press("escape")
        await settle(pilot)
        assert "chain intact (9 entries)" in str(screen.query_one("#audit-note", Static).render())
        store = app.workspace.store
        await store.db.execute("DROP TRIGGER audit_log_no_delete")  # an attacker with the file
        await store.db.execute("DELETE FROM audit_log WHERE seq = 4")
        await pilot.press("V")
        await settle(pilot)
        assert isinstance(app.screen, MessageModal) and app.screen.danger
        assert "seq 5: entry 4 is missing" in app.screen.text
        await pilot.press("escape")
        await settle(pilot)
        assert "chain BROKEN: 1 problem(s)" in str(screen.query_one("#audit-note", Static).render())


async def test_what_the_app_does_shows_up(fleet_data):
    """The TUI's own actions go through core, which logs them: a schedule paused from its screen."""
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.workspace.store.append_audit([NewEntry("host.added", "web99", {}, "me@here")])
        from core.schedules import cadence, service

        added = await service.add_schedule(app.workspace, service.Target.of(all_hosts=True), "cis-level1-server",
                                           cadence.parse("daily 02:00"), "UTC")
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("p")  # pause the one schedule from its screen
        await settle(pilot)
        screen = await audit_screen(pilot)
        table = screen.query_one("#audit", KeyedTable)
        assert column(table, 3)[:3] == ["schedule.paused", "schedule.added", "host.added"]
        assert column(table, 4)[0] == added.id
