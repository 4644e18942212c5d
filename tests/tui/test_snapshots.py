"""SVG snapshots of every screen at 80x24 and 120x40 (fixed ids, times, clock; no blinking).

Update after a deliberate change with: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from core import paths
from tests.tui.helpers import SCAN_IDS, make_app, seed_fleet, settle
from tui.screens.results import ResultsScreen

SNAPSHOT_DATA = Path("/tmp/compliance-tui-snapshots/data")  # shown on Settings: must not vary
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(scope="module")
def snapshot_data(content_index, l1_results, l2_results) -> Path:
    shutil.rmtree(SNAPSHOT_DATA.parent, ignore_errors=True)
    index = paths.cache_dir(SNAPSHOT_DATA) / "content-index.json"
    index.parent.mkdir(parents=True)
    shutil.copy(content_index, index)
    asyncio.run(seed_fleet(SNAPSHOT_DATA, l1_results, l2_results))
    yield SNAPSHOT_DATA
    shutil.rmtree(SNAPSHOT_DATA.parent, ignore_errors=True)


@pytest.fixture(autouse=True)
def fixed_config_path(monkeypatch):
    """Settings shows the config file's path: the same on every run."""
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(SNAPSHOT_DATA.parent / "config.toml"))


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
    run = results_of("web-3", "f", "f", "space", "space", "F")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_quick_fix_confirmation(snap_compare, snapshot_data, size):
    run = results_of("web-3", "f", "f", "space", "space", "F", "y")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_job_details(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("4", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_schedules(snap_compare, snapshot_data, size):
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=keys("5"))


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
        await pilot.app.push_screen(ImportResultsModal("web01", path=f"{directory}/"))
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_import_results(snap_compare, snapshot_data, size):
    run = import_from(SNAPSHOT_DATA.parent / "incoming")
    assert snap_compare(make_app(snapshot_data), terminal_size=size, run_before=run)
