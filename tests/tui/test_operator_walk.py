"""What the TUI shows on an operator's walk (issue 23): an excepted rule's reason and expiry in
its details, an IPv6 address with its port in brackets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import SCAN_IDS, add_host, make_app, settle
from tests.tui.seed_policy import EXCEPTED_RULE, seed_policy
from tui.modals.rule_detail import RuleDetailModal
from tui.screens.hosts import HostsScreen
from tui.screens.results import ResultsScreen
from tui.widgets.keyed_table import KeyedTable


@pytest.fixture
async def policy_data(fleet_data) -> Path:
    await seed_policy(fleet_data)
    return fleet_data


async def details_of(pilot, rule: str) -> RuleDetailModal:
    rows = pilot.app.screen.query_one("#rules", KeyedTable)
    assert rows.move_to(rule)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RuleDetailModal)
    return pilot.app.screen


async def test_an_excepted_rules_details_show_the_reason_and_the_expiry(policy_data):
    app = make_app(policy_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(ResultsScreen(await app.workspace.store.get_scan(SCAN_IDS["web-3"])))
        await settle(pilot)
        failed = [k for k in app.screen.query_one("#rules", KeyedTable).keys
                  if str(app.screen.query_one("#rules", KeyedTable).cells(k)[4]) == "fail"]
        modal = await details_of(pilot, EXCEPTED_RULE)
        said = " ".join(str(modal.query_one("#rule-exception").render()).split())
        assert said.startswith("Excepted until 2099-12-31 (then it counts again) · host web01 · accepted by alice")
        assert "Reason: legacy clients need CBC ciphers" in said
        assert modal.query_one("#rule-exception").region.height >= 2  # on screen at 80x24, not cut to nothing
        await pilot.press("escape")
        await settle(pilot)
        modal = await details_of(pilot, failed[0])  # a failure nobody accepted: no such line
        assert not modal.query("#rule-exception")


async def test_an_ipv6_address_shows_its_port_in_brackets(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await add_host(app.workspace, "v6", "2001:db8::5", port=2222)
        await add_host(app.workspace, "v4", "10.0.0.5", port=2222)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, HostsScreen)
        table = app.screen.query_one("#hosts", KeyedTable)
        assert str(table.cells("v6")[2]) == "[2001:db8::5]:2222"
        assert str(table.cells("v4")[2]) == "10.0.0.5:2222"
