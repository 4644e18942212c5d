"""Results of one scan: SQL filters, search, sort, rule details, failed-only selection, Quick Fix."""

from __future__ import annotations

import csv
import json

from textual.widgets import Markdown

from core.domain.models import SEVERITIES
from core.remediation.fixes import whole_script
from core.workspace import Workspace
from tests.tui.helpers import SCAN_IDS, make_app, seed_scan, settle, wait_for
from tui.modals.confirm import ConfirmModal
from tui.modals.fix_preview import FixPreviewModal
from tui.modals.rule_detail import RuleDetailModal
from tui.screens.results import ResultsScreen
from tui.widgets.cells import short_rule
from tui.widgets.keyed_table import KeyedTable

RULE = "xccdf_org.ssgproject.content_rule_"


async def open_results(pilot, scan_key: str = "web-3") -> ResultsScreen:
    scan = await pilot.app.workspace.store.get_scan(SCAN_IDS[scan_key])
    await pilot.app.push_screen(ResultsScreen(scan))
    await settle(pilot)
    return pilot.app.screen


def result_of(table: KeyedTable, key: str) -> str:
    return str(table.cells(key)[4])


async def test_table_totals_and_colours(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_results(pilot)
        scan = screen.scan
        table = screen.query_one("#rules", KeyedTable)
        assert table.row_count == scan.total == 189
        summary = str(screen.query_one("#results-summary").render())
        assert f"Total {scan.total} rules" in summary and f"Failed {scan.counts['fail']}" in summary
        expected = await app.workspace.store.rule_results(scan.id, order="severity")
        assert table.keys == [r.rule_id for r in expected]  # default sort: severity
        first = table.cells(table.keys[0])
        assert str(first[1]) == short_rule(expected[0].rule_id) and str(first[2]) == expected[0].title
        assert str(first[3]) == "high"
        variables = app.theme_variables
        assert first[3].style.color.name.lower() == variables["text-error"].lower()
        fails = [k for k in table.keys if result_of(table, k) == "fail"]
        assert table.cells(fails[0])[4].style.color.name.lower() == variables["text-error"].lower()
        assert "ai" not in [c.key for c in table.columns]  # no LLM configured: no AI column, and no Explain key
        assert "quick_fix" in {b.action for b in screen.BINDINGS} and screen.check_action("explain", ()) is False


async def test_result_filter_search_severity_and_sort(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        table = screen.query_one("#rules", KeyedTable)
        await pilot.press("f", "f")  # All -> pass -> fail
        await settle(pilot)
        assert screen.query_one("#result-filter").value == "fail"
        assert table.row_count == screen.scan.counts["fail"]
        assert {result_of(table, k) for k in table.keys} == {"fail"}
        await pilot.press("slash", *"sshd")
        await settle(pilot)
        assert table.row_count and all("sshd" in k or "ssh" in str(table.cells(k)[2]).lower() for k in table.keys)
        expected = await app.workspace.store.rule_results(
            screen.scan.id, result="fail", search="sshd", order="severity")
        assert table.keys == [r.rule_id for r in expected]
        await pilot.press("escape", "v")  # severity: high
        await settle(pilot)
        assert all(str(table.cells(k)[3]) == "high" for k in table.keys)
        await pilot.press("v", "v", "v")  # back to all severities
        await pilot.press("f", "f", "f", "f")  # ... error, notapplicable, notchecked, all
        await settle(pilot)
        await pilot.press("S", "S")  # sort by severity -> result -> rule id
        await settle(pilot)
        assert table.keys == sorted(table.keys)
        await pilot.press("S")  # back to severity
        await settle(pilot)
        ranks = [SEVERITIES.index(str(table.cells(k)[3])) for k in table.keys]
        assert ranks == sorted(ranks)


async def test_enter_expands_a_rule_with_markdown(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        table = screen.query_one("#rules", KeyedTable)
        await pilot.press("f", "f")
        await settle(pilot)
        rule = table.cursor_key
        await pilot.press("enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, RuleDetailModal) and modal.result.rule_id == rule
        source = modal.query_one(Markdown).source
        for heading in ("## Description", "## Rationale", "## Remediation"):
            assert heading in source
        info = await app.workspace.store.rule_info(screen.scan.content_id, rule)
        assert info.description.split()[0] in source
        if info.fix_script:  # the fix keeps its lines exactly, beside the Markdown, at 80 columns
            assert str(modal.query_one("#rule-fix").render()) == info.fix_script
            longest = max(info.fix_script.splitlines(), key=len)
            assert modal.query_one("#rule-fix").size.width >= len(longest)  # not cut at the edge
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_only_failed_rules_can_be_selected_for_quick_fix(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        table = screen.query_one("#rules", KeyedTable)
        passing = next(k for k in table.keys if result_of(table, k) == "pass")
        table.move_to(passing)
        await pilot.press("space")
        await pilot.pause()
        assert screen.selected == set()
        failing = [k for k in table.keys if result_of(table, k) == "fail"][:2]
        for key in failing:
            table.move_to(key)
            await pilot.press("space")
        await pilot.pause()
        assert screen.selected == set(failing)
        assert str(table.cells(failing[0])[0]) == "✓"
        assert "Quick Fix (2)" in str(screen.query_one("#results-summary").render())
        # the selection survives a filter change
        await pilot.press("f", "f")
        await settle(pilot)
        assert str(table.cells(failing[0])[0]) == "✓"
        # unselect one: the count follows
        table.move_to(failing[0])
        await pilot.press("space")
        await pilot.pause()
        assert "Quick Fix (1)" in str(screen.query_one("#results-summary").render())


async def select(pilot, screen, rules: list[str]) -> None:
    table = screen.query_one("#rules", KeyedTable)
    for rule in rules:
        table.move_to(RULE + rule)
        await pilot.press("space")
    await pilot.pause()


def preview_shown(app) -> bool:
    """The preview is on screen and laid out (a busy machine shows the screen before its layout)."""
    return isinstance(app.screen, FixPreviewModal) and bool(app.screen.query("#fix-script")) \
        and app.screen.query_one("#fix-summary").region.height > 0


async def test_quick_fix_previews_the_exact_script_and_asks_twice_for_a_reboot(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_results(pilot)
        await select(pilot, screen, ["accounts_passwords_pam_tally2", "kernel_module_cramfs_disabled",
                                     "partition_for_tmp"])
        await pilot.press("F")
        await wait_for(pilot, lambda: preview_shown(app), what="the preview")
        preview = app.screen
        assert preview.query_one(".fix-preview").border_title == "Quick Fix (3) of web01"
        summary = str(preview.query_one("#fix-summary").render())
        assert "2 fix(es) as root · web01: scan a51b7e03 · SSG 0.1.65 ssg-ubuntu2204-ds.xml" in summary
        assert "⚠ changes PAM (1): accounts_passwords_pam_tally2" in summary
        assert "⚠ needs a reboot (1): kernel_module_cramfs_disabled" in summary
        assert "⚠ no automated fix (1): partition_for_tmp" in summary
        script = str(preview.query_one("#fix-script").render())
        (request,) = preview.requests
        assert whole_script(request.plan, "web01").splitlines()[0] in script
        assert "# ---- no automated fix: " + RULE + "partition_for_tmp" in script
        await pilot.press("w")  # leave it to a worker: nothing here connects to web01
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "Apply 2 fix(es) to web01 as root?" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "may need a reboot" in app.screen.question
        await pilot.press("n")  # the second question: no
        await pilot.pause()
        assert app.screen is preview and (await app.workspace.store.find_jobs(kind="harden"))[1] == 0
        await pilot.press("y", "y", "y")
        await wait_for(pilot, lambda: isinstance(app.screen, ResultsScreen), what="the job")
        (job,), _ = await app.workspace.store.find_jobs(kind="harden")
        assert job.status.value == "pending" and job.params["source_scan"] == SCAN_IDS["web-3"]
        assert sorted(job.params["rules"]) == sorted(RULE + r for r in ("accounts_passwords_pam_tally2",
                                                                         "kernel_module_cramfs_disabled",
                                                                         "partition_for_tmp"))
        assert screen.selected == set()


async def test_exports_write_all_rule_results(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("X")
        await settle(pilot)
        total = screen.scan.total
    files = {p.suffix: p for p in (fleet_data / "exports").iterdir()}
    with files[".csv"].open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == total and set(rows[0]) == {"rule_id", "title", "severity", "result", "seconds", "exception_reason",
                                                   "exception_expires"}
    assert len(json.loads(files[".json"].read_text())) == total


async def test_a_timed_scan_shows_each_rules_seconds_and_sorts_the_slowest_first(fleet_data, l1_results):
    async with await Workspace.open(fleet_data) as workspace:
        timed = await seed_scan(workspace, "web01", l1_results, scan_id="0d1e2f30-4a5b-4c6d-8e7f-8091a2b3c4d5",
                                created_at="2025-03-30T09:00:00Z", timed=True)
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        untimed = await open_results(pilot)
        assert "secs" not in [c.key for c in untimed.query_one("#rules", KeyedTable).columns]
        assert "time" not in [value for _label, value in untimed.query_one("#sort").options]
        await pilot.press("escape")
        await pilot.app.push_screen(ResultsScreen(timed))
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#rules", KeyedTable)
        assert table.columns[-1].key == "secs"
        while screen.query_one("#sort").value != "time":
            await pilot.press("S")
        await settle(pilot)
        shown = [float(str(table.cells(k)[-1])) for k in table.keys]
        assert shown == sorted(shown, reverse=True) and shown[0] == 2.9
        assert str(table.cells(table.keys[-1])[-1]) == "0.00"


def test_seconds_keep_sub_second_rules_readable():
    from tui.widgets.cells import seconds

    assert [seconds(s) for s in (0, 0.004, 0.018, 0.1, 2.9, 12.34, 95.2, 1234.5)] == [
        "0.00", "<0.01", "0.02", "0.10", "2.90", "12.3", "95.2", "1234"]  # the CLI's 0.018 is not 0.0


async def test_rule_ids_that_share_a_start_stay_told_apart_at_80_columns(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        await pilot.press("v", "v")  # medium: seven accounts_password_pam_* rules in a row
        await settle(pilot)
        table = screen.query_one("#rules", KeyedTable)
        widths = table._widths()
        start = 1 + widths[0] + table.gap
        shown = [table.render_line(y).text[start:start + widths[1]].strip() for y in range(1, table.size.height)]
        cut = [text for text in shown if text.startswith("accoun") and "…" in text]  # cut in the middle
        assert len(cut) >= 7 and len(set(cut)) == len(cut), cut  # the ends that tell them apart stay
        assert "accounts_ma…login_defs" in cut and "accounts_mi…login_defs" in cut  # where they differ


async def test_a_big_harden_shows_every_warning_at_80x24_and_asks_for_the_host_name(fleet_data):
    """Harden of every failed rule of web01 (more than 20): the summary of each kind of risk is
    whole on screen above the script, the confirmation repeats it, and a y is not enough."""
    from tui.modals.confirm import TypedConfirmModal
    from tui.modals.harden import HardenModal

    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        host = await app.workspace.store.require_host("web01")
        await app.push_screen(HardenModal([host]))
        await settle(pilot)
        await pilot.press("enter")  # CIS Level 1 Server
        await wait_for(pilot, lambda: preview_shown(app), what="the preview")
        preview = app.screen
        (request,) = preview.requests
        assert len(request.plan.fixes) > 20
        summary = preview.query_one("#fix-summary")
        lines = str(summary.render()).splitlines()
        classes = request.plan.warning_classes()
        assert len(classes) >= 5 and len(lines) == len(classes) + 2
        for (what, rules), line in zip(classes, lines[1:]):
            assert line.startswith(f"⚠ {what} ({len(rules)}): "), line
        assert summary.region.height == len(lines) and summary.region.bottom <= app.size.height
        assert preview.query_one("#fix-script-scroll").region.height >= 3  # the script still shows
        await pilot.press("w", "y")
        await pilot.pause()
        typed = app.screen
        assert isinstance(typed, TypedConfirmModal) and typed.word == "web01"
        assert all(f"{what} ({len(rules)})" in typed.question for what, rules in classes)
        await pilot.press(*"web02", "enter")
        await pilot.pause()
        assert app.screen is typed and (await app.workspace.store.find_jobs(kind="harden"))[1] == 0
        typed.query_one("#typed").value = ""
        await pilot.press(*"web01", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "may need a reboot" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, (FixPreviewModal, ConfirmModal)), what="the job")
        (job,), _ = await app.workspace.store.find_jobs(kind="harden")
        assert job.status.value == "pending" and len(job.params["rules"]) == len(request.plan.fixes) + len(
            request.plan.missing)
