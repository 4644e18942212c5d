"""Hosts screen: add, edit, delete with confirmation, filter, import with preview."""

from __future__ import annotations

from textual.widgets import Input

from core.workspace import Workspace
from tests.tui.helpers import SCAN_IDS, add_host, make_app, settle
from tui.modals.confirm import ConfirmModal
from tui.modals.host_form import HostFormModal
from tui.modals.import_hosts import ImportHostsModal
from tui.screens.hosts import HostsScreen
from tui.widgets.keyed_table import KeyedTable


async def hosts_screen(pilot) -> HostsScreen:
    await pilot.press("2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HostsScreen)
    return pilot.app.screen


async def fill(pilot, modal, **values) -> None:
    for field, value in values.items():
        modal.query_one(f"#f-{field}", Input).value = value
    await pilot.pause()


async def test_add_host_is_validated_then_saved(data_dir, home):
    key = home / "id_test"
    key.write_text("not really a key")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await hosts_screen(pilot)
        await pilot.press("a")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, HostFormModal)
        await pilot.press("ctrl+s")  # an empty form: said in the form's words, never "None"
        await settle(pilot)
        assert str(modal.query_one("#form-error").render()) == "give the host a name (Name), e.g. web01"
        await fill(pilot, modal, name="web01")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert str(modal.query_one("#form-error").render()).startswith("give the host's address (Address)")
        await fill(pilot, modal, name="web 01", address="10.0.0.5")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is modal
        assert "invalid host name" in str(modal.query_one("#form-error").render())
        await fill(pilot, modal, name="web01", port="70000")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "invalid port" in str(modal.query_one("#form-error").render())
        await fill(pilot, modal, port="2222", username="scanner", identity_file=str(home / "missing"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not exist" in str(modal.query_one("#form-error").render())
        await fill(pilot, modal, identity_file=str(key))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one("#hosts", KeyedTable)
        assert "web01" in table and table.cursor_key == "web01"
        assert [str(c) for c in table.cells("web01")[1:4]] == ["web01", "10.0.0.5:2222", "scanner"]
        host = await app.workspace.store.get_host("web01")
        assert (host.port, host.username, host.identity_file) == (2222, "scanner", str(key))
        # a second host by the same name is refused in the form
        await pilot.press("a")
        await pilot.pause()
        await fill(pilot, app.screen, name="web01", address="10.0.0.6")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "exists already" in str(app.screen.query_one("#form-error").render())


async def test_edit_host_renames_and_readdresses(data_dir):
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "old", "10.0.0.1", username="ops")
        await add_host(workspace, "other", "10.0.0.2")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await hosts_screen(pilot)
        table = screen.query_one("#hosts", KeyedTable)
        table.move_to("old")
        await pilot.press("e")
        await pilot.pause()
        modal = app.screen
        assert modal.query_one("#f-address", Input).value == "10.0.0.1"
        assert modal.query_one("#f-username", Input).value == "ops"
        await fill(pilot, modal, name="other")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "exists already" in str(modal.query_one("#form-error").render())
        await fill(pilot, modal, name="new", address="db.example.com")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert table.keys == ["localhost", "new", "other"]
        host = await app.workspace.store.get_host("new")
        assert host.address == "db.example.com" and host.username == "ops"
        assert await app.workspace.store.get_host("old") is None


async def test_delete_asks_and_says_what_goes_with_the_host(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await hosts_screen(pilot)
        table = screen.query_one("#hosts", KeyedTable)
        table.move_to("web01")
        await pilot.press("d")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        assert "With it go its 4 scans, their results and evidence." in confirm.question
        await pilot.press("n")
        await settle(pilot)
        assert "web01" in table and await app.workspace.store.get_host("web01")
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert "web01" not in table
        assert await app.workspace.store.get_host("web01") is None
        assert await app.workspace.store.find_scans(id_prefix=SCAN_IDS["web-1"][:8]) == []


async def test_filter_runs_in_sql(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await hosts_screen(pilot)
        table = screen.query_one("#hosts", KeyedTable)
        assert table.keys == ["db01", "legacy", "localhost", "web01"]
        await pilot.press("slash", *"example")
        await settle(pilot)
        assert table.keys == ["db01"]
        await pilot.press("ctrl+u", *"22.04")  # by OS
        await settle(pilot)
        assert table.keys == ["db01", "web01"]
        latest = await app.workspace.store.get_scan(SCAN_IDS["web-3"])
        assert str(table.cells("web01")[-1]) == f"{latest.score:.1f}"  # Score, the last column


async def test_space_selects_hosts_for_bulk_scan(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await hosts_screen(pilot)
        table = screen.query_one("#hosts", KeyedTable)
        table.move_to("db01")
        await pilot.press("space")  # selects db01; the cursor stays (as k9s and lazygit)
        assert table.cursor_key == "db01"
        table.move_to("web01")
        await pilot.press("space")
        await pilot.pause()
        assert screen.selected == {"db01", "web01"}
        assert str(screen.query_one("#bulk").label) == "Bulk Scan (2) b"
        assert str(table.cells("db01")[0]) == "✓"


SSH_CONFIG = """\
Host jump
    HostName 192.0.2.10
    User ops
Host web1 web2
    HostName %h.example.com
    Port 2200
Host *
    User fallback
"""

INI = """\
[web]
app[01:02].example.com
[web:vars]
ansible_user=deploy
ansible_port=2201
[db]
localhost ansible_connection=local
"""


async def test_import_from_ssh_config_previews_then_adds_the_chosen(data_dir, home):
    (home / ".ssh" / "config").write_text(SSH_CONFIG)
    app = make_app(data_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await hosts_screen(pilot)
        await pilot.press("i")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ImportHostsModal)
        await pilot.press("enter")  # reads the default, ~/.ssh/config
        await settle(pilot)
        preview = modal.query_one("#preview", KeyedTable)
        assert preview.keys == ["jump", "web1", "web2"]
        assert modal.chosen == {"jump", "web1", "web2"}
        assert await app.workspace.store.get_host("jump") is None  # nothing added yet
        preview.move_to("web2")
        await pilot.press("space")  # leave web2 out
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, HostsScreen)
        jump = await app.workspace.store.get_host("jump")
        assert (jump.address, jump.username, jump.port) == ("192.0.2.10", "ops", 22)
        web1 = await app.workspace.store.get_host("web1")
        assert (web1.address, web1.username, web1.port) == ("web1.example.com", "fallback", 2200)
        assert await app.workspace.store.get_host("web2") is None
        assert "web1" in app.screen.query_one("#hosts", KeyedTable)


async def test_import_ansible_inventory_marks_existing_hosts(data_dir, tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(INI)
    app = make_app(data_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await hosts_screen(pilot)
        await pilot.press("i")
        await pilot.pause()
        modal = app.screen
        modal.query_one("#path", Input).value = str(inventory)
        await pilot.press("enter")
        await settle(pilot)
        preview = modal.query_one("#preview", KeyedTable)
        assert preview.keys == ["app01.example.com", "app02.example.com", "localhost"]
        assert str(preview.cells("localhost")[5]) == "exists already"
        assert modal.chosen == {"app01.example.com", "app02.example.com"}
        preview.move_to("localhost")
        await pilot.press("space")  # cannot be chosen
        assert "localhost" not in modal.chosen
        await pilot.press("ctrl+s")
        await settle(pilot)
        host = await app.workspace.store.get_host("app02.example.com")
        assert (host.username, host.port) == ("deploy", 2201)
        assert host.tags == ("web",)  # its Ansible group, as `hosts import` gives it (issue 23)


async def test_import_reports_a_broken_file(data_dir, tmp_path):
    broken = tmp_path / "inventory.yml"
    broken.write_text("all:\n  hosts:\n      - x\n    y: 1\n")
    app = make_app(data_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await hosts_screen(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(broken)
        await pilot.press("enter")
        await settle(pilot)
        assert "line 4" in str(app.screen.query_one("#import-error").render())
