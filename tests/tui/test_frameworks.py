"""Frameworks beyond CIS in the TUI, at 80x24: New Scan lists a RHEL 9 host's profiles under a
heading per framework (CIS Level 1 Server first and highlighted), a STIG scan is picked and
queued, and a profile title from content is shown as text, never read as markup."""

from __future__ import annotations

from core.domain.models import JobStatus
from core.workspace import Workspace
from tests.tui.helpers import add_host, make_app, settle, wait_for
from tests.unit.test_content import P, make_ds
from tui.modals.bulk_scan import BulkScanModal
from tui.modals.new_scan import NewScanModal

RHEL_9 = {"os_id": "rhel", "os_version": "9.3", "os_name": "Red Hat Enterprise Linux 9.3 (Plow)", "os_family": "rhel"}
HOSTILE = "[bold red]Owned[/] STIG [link=https://example.com]x[/link]"


def option_texts(options) -> list[str]:
    return [str(option.prompt) for option in options.options]


async def open_new_scan(app, pilot, host: str) -> NewScanModal:
    """New Scan for a RHEL 9 host, once its profiles are listed."""
    await settle(pilot)
    modal = NewScanModal(host)
    await app.push_screen(modal)
    await wait_for(pilot, lambda: modal.choices, what="RHEL 9's profiles")
    await settle(pilot)
    return modal


async def test_new_scan_offers_every_framework_and_queues_a_stig_scan(data_dir):
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "rhel01", "10.0.0.9", **RHEL_9)
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_new_scan(app, pilot, "rhel01")
        options = modal.query_one("#profiles")
        texts = option_texts(options)
        headings = [str(o.prompt) for o in options.options if o.disabled]
        assert headings[:3] == ["CIS", "DISA STIG", "PCI-DSS"] and "ANSSI BP-028" in headings
        assert texts[0] == "CIS" and "Level 1 - Server" in texts[1] and "Level 2 - Server" in texts[2]
        assert options.highlighted == 1  # CIS Level 1 Server: the default, not the heading
        box = modal.query_one(".new-scan")
        assert box.region.bottom <= 24 and box.region.right <= 80 and options.region.height <= 10
        # down to the STIG, queued for a worker (no scan runs here)
        stig = next(n for n, o in enumerate(options.options) if o.id == P + "stig")
        options.highlighted = stig
        await pilot.press("w")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NewScanModal)
        jobs, _ = await app.workspace.store.find_jobs()
        (job,) = jobs
        assert (job.host_name, job.params["profile"], job.status) == ("rhel01", P + "stig", JobStatus.PENDING)


async def test_a_profile_title_from_content_is_text(data_dir):
    """Imported content names its own profiles: a title with markup shows as written."""
    make_ds(data_dir / "content" / "ssg-rhel9-ds.xml", "9.9.9", {"cis_server_l1": ["a"], "cis": ["a", "b"]},
            more_profiles=f'<xccdf:Profile id="{P}stig"><xccdf:title>{HOSTILE}</xccdf:title>'
                          f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_c" selected="true"/>'
                          f'</xccdf:Profile>')
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "rhel01", "10.0.0.9", **RHEL_9)
        await add_host(workspace, "rhel02", "10.0.0.10", **RHEL_9)
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_new_scan(app, pilot, "rhel01")
        assert any(HOSTILE in text for text in option_texts(modal.query_one("#profiles")))
        await pilot.press("escape")
        await settle(pilot)
        hosts = [await app.workspace.store.require_host(name) for name in ("rhel01", "rhel02")]
        bulk = BulkScanModal(hosts)
        await app.push_screen(bulk)
        await settle(pilot)
        texts = option_texts(bulk.query_one("#bulk-profile"))
        assert f"  {HOSTILE}  (stig, 2 of 2 hosts)" in texts
        assert texts[:3] == ["CIS", "  CIS Level 1 Server  (cis-level1-server, 2 of 2 hosts)",
                             "  CIS Level 2 Server  (cis-level2-server, 2 of 2 hosts)"]
        box = bulk.query_one(".bulk")
        assert box.region.bottom <= 24
