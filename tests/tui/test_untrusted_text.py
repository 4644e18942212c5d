"""Text from targets and files on every screen and modal: markup payloads show literally and do
nothing (no click action, no link, no MarkupError), escape sequences show visibly.

What is checked is what the terminal would get: the composited strips of the screen (every
segment's text and style), after each screen, modal, tooltip and notice has drawn the payload.
"""

from __future__ import annotations

from pathlib import Path

from core.domain.models import Host, RuleInfo, RuleResult, Scan, ScanStatus
from core.hosts.service import Readiness
from core.workspace import Workspace
from tests.seed import seed_job
from tests.tui.helpers import UBUNTU_2204, make_app, settle, wait_for
from tui.modals.check_report import CheckReportModal
from tui.modals.confirm import ConfirmModal
from tui.modals.import_results import ImportResultsModal
from tui.modals.job_detail import JobDetailModal
from tui.modals.new_scan import NewScanModal
from tui.modals.rule_detail import RuleDetailModal
from tui.screens.compliance import ComplianceScreen
from tui.screens.results import ResultsScreen
from tui.widgets.keyed_table import KeyedTable

PWN = Path("/tmp/pwn")
MARKUP = "[bold]x[/] [@click=app.quit]q[/] [link=x]l[/] [@click=app.screenshot('/tmp/pwn')]s[/]"
ESCAPES = "\x1b]0;title\x07\x1b[2J\x9b31m"
PAYLOAD = f"{MARKUP} {ESCAPES}"
RULE = "xccdf_org.ssgproject.content_rule_evil[@click=app.quit]"
CONTROLS = {chr(c) for c in (*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))}


async def seed(data_dir: Path) -> dict:
    async with await Workspace.open(data_dir) as workspace:
        store = workspace.store
        host = await store.add_host(Host(name="evil", address="10.6.6.6", username="scanner", status="online",
                                         **(UBUNTU_2204 | {"os_name": PAYLOAD, "os_id": f"x{MARKUP}"})))
        rule = RuleInfo(RULE, PAYLOAD, "high", PAYLOAD, PAYLOAD, PAYLOAD, f"echo {PAYLOAD}")
        await store.save_content("embedded-evil", f"evil{MARKUP}.xml", "b", "1", [rule])
        when = "2025-03-30T10:00:00.000000Z"
        imported = Scan(id="e1e1e1e1-0000-4000-8000-000000000001", host_id=host.id, host_name="evil",
                        profile=f"p{PAYLOAD}", profile_id=f"p{MARKUP}", status=ScanStatus.COMPLETED,
                        content_id="embedded-evil", counts={"fail": 1}, score=0.0, notice=PAYLOAD,
                        created_at=when, started_at=when, finished_at=when, origin="import",
                        source_file=f"file{PAYLOAD}.xml", source_sha256="0" * 64, result_key="k", target=PAYLOAD)
        await store.add_imported_scans([(imported, [RuleResult(RULE, "fail", "high")])])
        job = await seed_job(store, host, created_at="2025-03-30T11:00:00.000000Z")
        await store.finish_job(job.id, "failed", PAYLOAD, output=f"line one\n{PAYLOAD}\n")
    return {"scan": imported, "job": job.id}


def terminal_output(app) -> list:
    """The segments the terminal gets for the current screen (compositor strips; private API,
    but exactly what Textual writes out)."""
    return [segment for strip in app.screen._compositor.render_strips() for segment in strip]


def check_screen(app, where: str, expect_literal: bool = True) -> None:
    segments = terminal_output(app)
    text = "".join(s.text for s in segments)
    raw = sorted({f"\\x{ord(c):02x}" for c in text if c in CONTROLS})
    assert not raw, f"{where}: raw control characters {raw} reach the terminal"
    for segment in segments:
        style = segment.style
        if style is None:
            continue
        meta = style.meta or {}
        click = str(meta.get("@click", ""))
        assert "app.quit" not in click and "screenshot" not in click, f"{where}: payload became an action {click!r}"
        assert style.link != "x", f"{where}: payload became a link"
    if expect_literal:
        assert "[@click=app.quit]" in text or "[@click=app.q" in text, f"{where}: the payload is not shown literally"
    assert app.is_running, f"{where}: the app quit"
    assert not PWN.exists(), f"{where}: a screenshot was written where the payload said"


async def click_everywhere(pilot, widget) -> None:
    """Click along the widget's first lines: a payload turned into markup would act on a click."""
    region = widget.region
    for x in range(0, region.width, 7):  # a sample: check_screen finds any action in the styles
        await pilot.click(offset=(region.x + x, region.y))
    await pilot.pause()
    assert pilot.app.is_running and not PWN.exists()


async def test_untrusted_text_is_plain_on_every_screen(data_dir, tmp_path):
    PWN.unlink(missing_ok=True)
    seeded = await seed(data_dir)
    content = data_dir / "content" / f"imported-{MARKUP.replace('/', '_')}"
    content.mkdir(parents=True)
    (content / "ssg-ubuntu2004-ds.xml").write_text("<broken")  # a warning that names its path
    app = make_app(data_dir)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        check_screen(app, "dashboard")
        await pilot.press("2")
        await settle(pilot)
        check_screen(app, "hosts")
        await click_everywhere(pilot, app.screen.query_one("#host-detail"))

        app.open_compliance("evil")
        await settle(pilot)
        assert isinstance(app.screen, ComplianceScreen)
        check_screen(app, "compliance")
        detail = app.screen.query_one("#scan-detail")
        await click_everywhere(pilot, detail)
        await pilot.hover(detail)  # its tooltip: the notice
        await pilot.pause(1.2)
        check_screen(app, "compliance tooltip")

        app.push_screen(ResultsScreen(seeded["scan"]))
        await settle(pilot)
        check_screen(app, "results")
        await click_everywhere(pilot, app.screen.query_one("#results-title"))
        table = app.screen.query_one("#rules", KeyedTable)
        (result,) = [r for r in await app.workspace.store.rule_results(seeded["scan"].id)]
        app.push_screen(RuleDetailModal(seeded["scan"], result))
        await settle(pilot)
        await wait_for(pilot, lambda: "Description" in "".join(s.text for s in terminal_output(app)))
        check_screen(app, "rule detail")
        assert "Rule texts from the imported results file" in "".join(s.text for s in terminal_output(app))
        await click_everywhere(pilot, app.screen.query_one("#rule-title"))
        await click_everywhere(pilot, app.screen.query_one("#rule-text"))
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert table is not None

        await pilot.press("4")
        await settle(pilot)
        check_screen(app, "jobs")
        app.push_screen(JobDetailModal(seeded["job"]))
        await settle(pilot)
        check_screen(app, "job detail")
        await click_everywhere(pilot, app.screen.query_one("#job-error"))
        await pilot.press("escape")

        for modal, where in (
            (ConfirmModal(f"Delete {PAYLOAD}?", title=PAYLOAD), "confirm"),
            (CheckReportModal(Readiness("evil", True, True, True, True, PAYLOAD, PAYLOAD, PAYLOAD)), "check"),
        ):
            app.push_screen(modal)
            await settle(pilot)
            check_screen(app, where)
            await click_everywhere(pilot, app.screen.query_one(".dialog"))
            app.pop_screen()
            await settle(pilot)

        app.notify(PAYLOAD, title=PAYLOAD, severity="error")
        await pilot.pause(0.3)
        check_screen(app, "notice")

        app.open_compliance("evil")
        await settle(pilot)
        app.push_screen(ImportResultsModal("evil"))
        await settle(pilot)
        hostile_file = tmp_path / f"r{MARKUP.replace('/', '_')}.xml"
        hostile_file.write_text(f"<TestResult>{PAYLOAD.replace(chr(27), '')}")
        field = app.screen.query_one("#import-path")
        field.value = f"{tmp_path}/"  # the picker lists the hostile file name
        await settle(pilot)
        check_screen(app, "import picker")
        field.value = str(hostile_file)
        field.focus()
        await pilot.press("enter")
        await settle(pilot)
        await wait_for(pilot, lambda: "not well-formed" in str(app.screen.query_one("#import-error").render()))
        check_screen(app, "import error")
        await pilot.press("escape")
        await settle(pilot)

        app.push_screen(NewScanModal("evil"))
        await settle(pilot)
        check_screen(app, "new scan", expect_literal=False)  # the OS name, e.g. in its note
        await pilot.press("escape")

        await pilot.press("6")
        await settle(pilot)
        await wait_for(pilot, lambda: "imported-" in "".join(s.text for s in terminal_output(app)), timeout=20)
        check_screen(app, "settings (content warnings)")
    assert not PWN.exists()


async def test_a_screens_notice_is_plain_text(data_dir):
    """Textual's Widget.notify() asks for markup; the app's notices never take it."""
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.notify("[exceptions] two_person [b]x[/b]", timeout=30)
        await pilot.pause()
        # the notices Textual keeps (private, but what its toasts render), each as plain text
        assert [(n.message, n.markup) for n in app._notifications] == [("[exceptions] two_person [b]x[/b]", False)]
