"""Results by control: `B` on Results opens the control view (NIST 800-53 first), which agrees
with core's view of the same scan; `B` steps through systems, `s` filters by status, enter lists a
control's rules, and the HTML report by control, OSCAL and the view are written from there. At 80x24."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import html

from core.results.controls import control_view
from tests.tui.helpers import SCAN_IDS, make_app, settle, wait_for
from tui.modals.message import MessageModal
from tui.screens.controls import ControlsScreen
from tui.screens.results import ResultsScreen
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.last_file import LastFile


async def test_results_by_nist_control_agree_with_core_and_export(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        scan = await app.workspace.store.get_scan(SCAN_IDS["web-3"])
        await app.push_screen(ResultsScreen(scan))
        await settle(pilot)
        await pilot.press("B")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ControlsScreen)
        await wait_for(pilot, lambda: screen.view is not None, what="the control view")
        expected = await control_view(app.workspace.store, scan, "nist-800-53")
        table = screen.query_one("#controls", KeyedTable)
        assert table.keys == [c.ref for c in expected.controls] and len(table.keys) > 50
        first = expected.controls[0]
        cells = table.cells(first.ref)
        assert [str(c) for c in cells[:5]] == [first.ref, first.status, str(first.passed), str(first.failed),
                                               str(first.other)]
        summary = str(screen.query_one("#controls-summary").render())
        assert summary.startswith(f"NIST SP 800-53: {len(expected.controls)} controls")

        await pilot.press("s")  # status: not met only
        await settle(pilot)
        assert table.keys == [c.ref for c in expected.controls if c.status == "not met"]
        await pilot.press("enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, MessageModal) and modal.title_text.startswith("nist-800-53 ")
        shown = next(c for c in expected.controls if c.ref == modal.title_text.partition(" ")[2])
        assert all(r.rule_id.rpartition("content_rule_")[2] in modal.text for r in shown.rules)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("B")  # the next system: CIS Controls
        await settle(pilot)
        await wait_for(pilot, lambda: screen.view is not None and screen.view.system.name == "cis-controls",
                       what="the CIS Controls view")
        cis = await control_view(app.workspace.store, scan, "cis-controls")
        assert table.keys == [c.ref for c in cis.controls if c.status == "not met"]

        await pilot.press("question_mark")  # help names this view's keys
        await settle(pilot)
        described = {(keys, text) for group, keys, text in app.screen.entries if group == "This screen"}
        assert ("M", "Export OSCAL assessment results, findings by this reference system") in described
        assert ("o", "HTML report of the scan with a section by this reference system's controls") in described
        assert ("K", "Export a STIG checklist (CKL) of a STIG scan") in described
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("M")  # OSCAL, findings by CIS Controls as shown
        await settle(pilot)
        await pilot.press("o")  # the HTML report, with a section by CIS Controls
        await settle(pilot)
        report = Path(str(app.screen.query_one(LastFile).path))
        await pilot.press("X")
        await settle(pilot)
        await pilot.press("K")  # a CIS scan has no STIG checklist: said, not crashed
        await settle(pilot)
    files = sorted((fleet_data / "exports").iterdir())
    oscal = json.loads(next(p for p in files if "-oscal-" in p.name).read_text())
    findings = oscal["assessment-results"]["results"][0]["findings"]
    assert len(findings) == len(cis.controls) and findings[0]["target"]["target-id"].startswith("cis-controls-")
    view = json.loads(next(p for p in files if p.name.endswith(".json") and "cis-controls" in p.name).read_text())
    assert [c["control"] for c in view["controls"]] == [c.ref for c in cis.controls]
    assert not any(p.suffix == ".ckl" for p in files)
    (section,) = html.fromstring(report.read_text(encoding="utf-8")).xpath("//section[@id='controls']")
    assert section.findtext("h2") == f"By control: {cis.system.title}"  # the system shown, not the default
    assert [row.findtext("td/code") for row in section.xpath(".//tbody/tr")] == [c.ref for c in cis.controls]
