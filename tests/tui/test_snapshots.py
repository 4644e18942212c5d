"""SVG snapshots of every screen at 80x24 and 120x40 (fixed ids, times, clock; no blinking).

Update after a deliberate change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from core import paths
from tests.tui.helpers import BULK_SCAN, SCAN_IDS, make_app, seed_bulk_scan, seed_fleet, settle
from tui.screens.results import ResultsScreen

pytestmark = pytest.mark.usefixtures("fixed_home")
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(scope="module")
def snapshot_data(snapshot_home, content_index, l1_results, l2_results) -> Path:
    data = snapshot_home / "data"
    index = paths.cache_dir(data) / "content-index.json"
    index.parent.mkdir(parents=True)
    shutil.copy(content_index, index)
    asyncio.run(seed_fleet(data, l1_results, l2_results))
    return data


def keys(*pressed: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
    return run_before


def results_of(scan_key: str, *pressed: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_compliance("web01")
        await settle(pilot)
        scan = await pilot.app.workspace.store.get_scan(SCAN_IDS[scan_key])
        await pilot.app.push_screen(ResultsScreen(scan))
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
    return run_before


def compliance_of(host: str, *pressed: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_compliance(host)
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", SIZES)
def test_hosts(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("2", "space"))


@pytest.mark.parametrize("size", SIZES)
def test_compliance(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=compliance_of("web01"))


@pytest.mark.parametrize("size", SIZES)
def test_results(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=results_of("web-3"))


@pytest.mark.parametrize("size", SIZES)
def test_results_by_control(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=results_of("web-3", "B"))


@pytest.mark.parametrize("size", SIZES)
def test_results_failed_selected(snap_compare, snapshot_data, size):
    run = results_of("web-3", "f", "f", "space", "space")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_rule_details(snap_compare, snapshot_data, size):
    run = results_of("web-3", "f", "f", "enter")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_settings(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("6"))


@pytest.mark.parametrize("size", SIZES)
def test_jobs(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("4"))


@pytest.mark.parametrize("size", SIZES)
def test_quick_fix_preview(snap_compare, snapshot_data, size):
    run = results_of("web-3", "f", "f", "space", "down", "space", "F")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_quick_fix_confirmation(snap_compare, snapshot_data, size):
    run = results_of("web-3", "f", "f", "space", "down", "space", "F", "y")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


def harden_of(host: str, *pressed: str):
    async def run_before(pilot) -> None:
        from tui.modals.harden import HardenModal

        await settle(pilot)
        await pilot.app.push_screen(HardenModal([await pilot.app.workspace.store.require_host(host)]))
        await settle(pilot)
        for key in ("enter", *pressed):  # CIS Level 1 Server
            await pilot.press(key)
            await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_harden_preview(snap_compare, snapshot_data, size):
    """Every failed rule of web01 (68): every kind of risk on screen, above the script."""
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=harden_of("web01"))


def test_harden_typed_confirmation(snap_compare, snapshot_data):
    assert snap_compare(make_app(snapshot_data), terminal_size=(80, 24), run_before=harden_of("web01", "y"))


@pytest.mark.parametrize("size", SIZES)
def test_job_details(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("4", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_schedules(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("5"))


def action_log(*pressed: str):
    """Jobs, then L: the Action log with a fixed log (times, actors, hashes) and a hostile row."""
    async def run_before(pilot) -> None:
        from tests.tui.seed_audit import seed_audit_store

        await settle(pilot)
        await seed_audit_store(pilot.app.workspace.store)
        for key in ("4", "L", *pressed):
            await pilot.press(key)
            await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_action_log(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=action_log())


def test_action_log_verified(snap_compare, snapshot_data):
    assert snap_compare(make_app(snapshot_data), terminal_size=(80, 24), run_before=action_log("V"))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size,
                        run_before=compliance_of("web01", "question_mark"))


@pytest.mark.parametrize("size", SIZES)
def test_new_scan(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size,
                        run_before=compliance_of("web01", "n"))


@pytest.mark.parametrize("size", SIZES)
def test_bulk_scan(snap_compare, snapshot_data, size):
    run = keys("2", "space", "down", "down", "space", "b")  # db01 and localhost... then web01
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


@pytest.fixture(scope="module")
def bulk_data(snapshot_home, content_index) -> Path:
    """Six hosts with long names and their scan jobs: done, failed three ways, running, waiting."""
    data = snapshot_home / "bulk-data"
    index = paths.cache_dir(data) / "content-index.json"
    index.parent.mkdir(parents=True)
    shutil.copy(content_index, index)
    asyncio.run(seed_bulk_scan(data))
    return data


async def six_host_bulk_scan(pilot) -> None:
    """The Bulk Scan of BULK_SCAN's hosts once started, following their jobs; the cursor on
    the second host (a failed one), whose whole error shows under the list."""
    from tui.modals.bulk_scan import BulkScanModal

    await settle(pilot)
    await pilot.press("2")  # Bulk Scan opens from Hosts
    await settle(pilot)
    store = pilot.app.workspace.store
    jobs, _ = await store.find_jobs()
    by_host = {job.host_name: job for job in jobs}
    modal = BulkScanModal([await store.require_host(name) for name in BULK_SCAN])
    await pilot.app.push_screen(modal)
    await settle(pilot)
    modal.show_started("cis-level1-server")
    modal.follow([by_host[name] for name in BULK_SCAN], "cis-level1-server", here=True)
    await settle(pilot)
    await pilot.press("j")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_bulk_scan_six_hosts_with_errors(snap_compare, bulk_data, size):
    assert snap_compare(make_app(bulk_data), terminal_size=size, run_before=six_host_bulk_scan)


@pytest.mark.parametrize("size", SIZES)
def test_add_host(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("2", "a"))


@pytest.mark.parametrize("size", SIZES)
def test_delete_host(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("2", "end", "d"))


def import_from(directory: Path):
    async def run_before(pilot) -> None:
        from tui.modals.import_results import ImportResultsModal

        (directory / "old").mkdir(parents=True, exist_ok=True)
        for name in ("db01-xccdf.xml", "notes.txt", "web01-arf.xml.bz2", "web01-arf.xml.gz"):
            (directory / name).touch()
        await settle(pilot)
        pilot.app.open_compliance("web01")
        await settle(pilot)
        await pilot.app.push_screen(ImportResultsModal("web01", path="~/incoming/"))  # HOME: snapshot_home
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_import_results(snap_compare, snapshot_home, snapshot_data, size):
    run = import_from(snapshot_home / "incoming")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


# ---------------------------------------------------------------- with an LLM configured

EXPLAINED = """## What it protects against

Without a time daemon the clock drifts: log timestamps stop lining up across hosts, and
Kerberos or TLS checks can fail.

## Why this host may fail it

The `ntp` package is not installed (`dpkg -s ntp` finds nothing).

## How to fix it safely

```bash
sudo apt-get install ntp
sudo systemctl enable --now ntp
```

## What could break

- `systemd-timesyncd` and `chrony` conflict with `ntp`: run only one.
"""


@pytest.fixture
def llm_configured(monkeypatch):
    """A local server named in the environment; never contacted (the explanation is cached)."""
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("COMPLIANCE_TUI_LLM_MODEL", "llama3.1:8b")


def explained(*pressed: str):
    async def run_before(pilot) -> None:
        from core.domain.explanations import Explanation

        scan = await pilot.app.workspace.store.get_scan(SCAN_IDS["web-3"])
        await pilot.app.workspace.store.save_explanation(Explanation(
            scan.content_id, "xccdf_org.ssgproject.content_rule_package_ntp_installed", "fail",
            "llama3.1:8b", EXPLAINED, "2025-03-30T09:00:00.000000Z", 812, 164))
        await results_of("web-3", "f", "f", *pressed)(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_results_with_ai(snap_compare, snapshot_data, llm_configured, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=explained())


@pytest.mark.parametrize("size", SIZES)
def test_explain_cached(snap_compare, snapshot_data, llm_configured, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=explained("e"))


def test_ai_settings(snap_compare, snapshot_data, llm_configured):
    assert snap_compare(make_app(snapshot_data), terminal_size=(80, 24), run_before=keys("6", "a"))
