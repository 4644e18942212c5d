"""SVG snapshots of issue 14's screens on the seeded fleet with tags, schedules and exceptions:
the Dashboard, Schedules, the schedule form and a comparison (80x24 and 120x40).

Update after a deliberate change with: pytest tests/tui/test_snapshots_policy.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from core import paths
from tests.tui.helpers import SCAN_IDS, make_app, seed_fleet, settle
from tests.tui.seed_policy import seed_policy
from tests.tui.test_snapshots import SIZES, keys
from tui.screens.compare import CompareScreen

pytestmark = pytest.mark.usefixtures("fixed_home")


@pytest.fixture(scope="module")
def policy_data(snapshot_home, content_index, l1_results, l2_results) -> Path:
    data = snapshot_home / "data"
    index = paths.cache_dir(data) / "content-index.json"
    index.parent.mkdir(parents=True)
    shutil.copy(content_index, index)
    asyncio.run(seed_fleet(data, l1_results, l2_results))
    asyncio.run(seed_policy(data))
    return data


def compare(older: str, newer: str, *pressed: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_compliance("web01")
        await settle(pilot)
        await pilot.app.push_screen(CompareScreen(SCAN_IDS[older], SCAN_IDS[newer]))
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_fleet_dashboard(snap_compare, policy_data, size):
    assert snap_compare(make_app(policy_data), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", SIZES)
def test_fleet_dashboard_rule_hosts(snap_compare, policy_data, size):
    assert snap_compare(make_app(policy_data), terminal_size=size, run_before=keys("tab", "down", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_schedule_list(snap_compare, policy_data, size):
    assert snap_compare(make_app(policy_data), terminal_size=size, run_before=keys("5"))


@pytest.mark.parametrize("size", SIZES)
def test_schedule_form(snap_compare, policy_data, size):
    assert snap_compare(make_app(policy_data), terminal_size=size, run_before=keys("5", "e"))


@pytest.mark.parametrize("size", SIZES)
def test_compare_scans(snap_compare, policy_data, size):
    assert snap_compare(make_app(policy_data), terminal_size=size, run_before=compare("web-1", "web-2"))
