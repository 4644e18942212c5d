"""Import results on the Compliance screen (real oscap ARF files), and the scan labels."""

from __future__ import annotations

from core.domain.models import ScanStatus, compute_score
from core.results import xccdf
from core.workspace import Workspace
from tests.tui.helpers import UBUNTU_2204, add_host, make_app, settle, wait_for
from tui.modals.confirm import ConfirmModal
from tui.modals.import_results import ImportResultsModal
from tui.modals.new_scan import NewScanModal
from tui.screens.compliance import ComplianceScreen
from tui.widgets.keyed_table import KeyedTable


async def open_import(pilot, host: str) -> ImportResultsModal:
    pilot.app.open_compliance(host)
    await settle(pilot)
    assert isinstance(pilot.app.screen, ComplianceScreen)
    await pilot.press("i")
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, ImportResultsModal)
    assert modal.query_one("#import-host").value == host
    return modal


async def submit(pilot, modal: ImportResultsModal, path) -> None:
    field = modal.query_one("#import-path")
    field.value = str(path)
    field.focus()
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def error_of(modal) -> str:
    return str(modal.query_one("#import-error").render())


async def test_import_an_arf_after_confirming_its_target(data_dir, l1_results):
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "air01", "10.9.0.5", **UBUNTU_2204)
    found = l1_results.found
    score = compute_score(xccdf.count_results(xccdf.merge_duplicates(found.results)))
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_import(pilot, "air01")
        # the picker lists the results files (and subdirectories) of the typed directory
        modal.query_one("#import-path").value = f"{l1_results.arf.parent}/"
        await settle(pilot)
        listed = [o.id for o in modal.query_one("#import-files").options]
        assert "arf.xml" in listed and "xccdf.xml" in listed and "root/" in listed

        await submit(pilot, modal, l1_results.arf)
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)  # the file's target is this machine, not air01
        assert repr(found.target) in confirm.question and "Import anyway?" in confirm.question
        assert "--yes" not in confirm.question
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComplianceScreen) and screen.host == "air01"
        assert any(n.message == "imported 1 scan from arf.xml" for n in app._notifications)
        table = screen.query_one("#scans", KeyedTable)
        await wait_for(pilot, lambda: len(table.keys) == 1, what="the imported scan")
        scan = await app.workspace.store.get_scan(table.keys[0])
        assert scan.origin == "import" and scan.status is ScanStatus.COMPLETED
        row = table.cells(scan.id)
        assert str(row[1]) == "completed" and str(row[2]) == f"{score:.1f}"
        detail = str(screen.query_one("#scan-detail").render())
        assert "imported from arf.xml" in detail and f"{scan.total} rules" in detail

        # the same file again: confirmed, then refused as already imported; nothing added
        modal = await open_import(pilot, "air01")
        await submit(pilot, modal, l1_results.arf)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is modal
        assert "already imported" in error_of(modal) and scan.short_id in error_of(modal)
        await pilot.press("escape")
        await settle(pilot)
        assert table.keys == [scan.id]


async def test_a_file_that_is_not_xml_is_refused(data_dir, tmp_path, l1_results):
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "air01", "10.9.0.5")
    notes = tmp_path / "notes.txt"
    notes.write_text("these are not results\n")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_import(pilot, "air01")
        await submit(pilot, modal, notes)
        assert app.screen is modal
        assert error_of(modal).startswith("notes.txt: not well-formed XML")
        assert not await app.workspace.store.find_scans(host="air01")
        # a host that does not exist is named, and the checkbox is the way to create it
        modal.query_one("#import-host").value = "nowhere"
        await submit(pilot, modal, l1_results.arf)
        assert "no host named 'nowhere'" in error_of(modal)
        assert 'tick "create host if missing"' in error_of(modal) and "--" not in error_of(modal)  # the TUI's words
        assert await app.workspace.store.get_host("nowhere") is None
        tick = modal.query_one("#create-host")
        assert str(tick.render()).startswith("▐ ▌")  # unticked reads unticked
        tick.value = True
        await pilot.pause()
        assert str(tick.render()).startswith("▐X▌")


async def test_new_scan_labels_derived_content(data_dir):
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "rocky9", os_id="rocky", os_version="9.3",
                       os_name="Rocky Linux 9.3 (Blue Onyx)", os_family="rhel")
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_compliance("rocky9")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, NewScanModal)
        options = modal.query_one("#profiles").options
        titles = [str(o.prompt) for o in options if not o.disabled]  # the profiles, not their headings
        assert titles and all("rules, derived from RHEL 9 content, SSG" in t for t in titles)
        assert [str(o.prompt) for o in options if o.disabled][:2] == ["CIS", "DISA STIG"]


def test_detail_labels_of_tailored_derived_and_imported_scans():
    from core.domain.models import Scan
    from tui.screens.compliance import scan_labels

    scan = Scan(id="x", host_id=1, host_name="h", profile="p", profile_id="p")
    assert scan_labels(scan) == []
    scan.tailoring_file, scan.content_derived_from = "web.xml", "RHEL 9"
    scan.origin, scan.source_file = "import", "arf.xml.gz"
    assert scan_labels(scan) == ["tailored (web.xml)", "derived from RHEL 9 content",
                                 "imported from arf.xml.gz"]
