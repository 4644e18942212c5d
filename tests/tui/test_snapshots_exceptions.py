"""SVG snapshots of issue 27's exceptions with approval at 80x24 and 120x40: the Exceptions
screen (pending, in force, expired, rejected, revoked), the request form on a failed rule in
Results, and the Dashboard's line of exceptions that end within 7 days. A module of its own:
its exceptions carry fixed ids and times, which the other snapshots' data does not need.

Update after a deliberate change with: pytest tests/tui/test_snapshots_exceptions.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from core import paths
from core.domain.policy import RuleException
from core.store.sqlite import SqliteStore
from tests.tui.helpers import SCAN_IDS, make_app, seed_fleet, settle
from tests.tui.test_snapshots import SIZES, keys
from tui.screens.results import ResultsScreen
from tui.widgets.keyed_table import KeyedTable

pytestmark = pytest.mark.usefixtures("fixed_home")
R = "xccdf_org.ssgproject.content_rule_"


def at(day: str) -> str:
    return f"2025-{day}T09:30:00.000000Z"


EXCEPTIONS = [  # NOW is 2025-03-31 12:00 UTC
    RuleException("host", R + "sshd_set_idle_timeout", "the batch jobs keep sessions open [until Q3]", "alice@jump01",
                  "2025-04-03", host="web01", status="approved", decided_by="bob@jump01", decided_at=at("03-02"),
                  created_at=at("03-01")),
    RuleException("all", R + "package_aide_installed", "[bold]the vendor's agent[/] replaces AIDE", "carol@jump02",
                  "2025-09-30", created_at=at("03-28")),
    RuleException("host", R + "accounts_tmout", "legacy", "alice@jump01", "2025-03-15", host="db01",
                  status="approved", decided_by="bob@jump01", decided_at=at("02-02"), created_at=at("02-01")),
    RuleException("all", R + "grub2_password", "no console access anyway", "dave@jump01", "2025-12-31",
                  status="rejected", decided_by="bob@jump01", decided_at=at("03-21"),
                  decision_note="set the password instead", created_at=at("03-20")),
]


async def seed_exceptions(data: Path) -> None:
    store = await SqliteStore.open(paths.database(data))
    try:
        for number, exc in enumerate(EXCEPTIONS, start=1):
            await store.add_exception(RuleException(**{**exc.__dict__, "id": f"e{number}000000-0000-4000-8000-0000000000"
                                                                              f"{number:02d}"}))
    finally:
        await store.close()


@pytest.fixture(scope="module")
def exceptions_data(snapshot_home, content_index, l1_results, l2_results) -> Path:
    data = snapshot_home / "data"
    index = paths.cache_dir(data) / "content-index.json"
    index.parent.mkdir(parents=True)
    shutil.copy(content_index, index)
    asyncio.run(seed_fleet(data, l1_results, l2_results))
    asyncio.run(seed_exceptions(data))
    return data


def request_form():
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_compliance("web01")
        await settle(pilot)
        screen = ResultsScreen(await pilot.app.workspace.store.get_scan(SCAN_IDS["web-3"]))
        await pilot.app.push_screen(screen)
        await settle(pilot)
        table = screen.query_one("#rules", KeyedTable)
        table.move_to(next(k for k in table.keys if str(table.cells(k)[4]) == "fail"))
        await pilot.press("a")
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_exceptions_screen(snap_compare, exceptions_data, size):
    assert snap_compare(make_app(exceptions_data), terminal_size=size, run_before=keys("ctrl+e", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_exception_request_form(snap_compare, exceptions_data, size):
    assert snap_compare(make_app(exceptions_data), terminal_size=size, run_before=request_form())


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_with_expiring_exceptions(snap_compare, exceptions_data, size):
    assert snap_compare(make_app(exceptions_data), terminal_size=size, run_before=keys())
