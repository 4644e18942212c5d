"""Fixtures of the TUI tests (helpers live in tests/tui/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oscap_results import CIS_L1_SERVER, oscap_available
from tests.tui.helpers import CIS_L2_SERVER, Results, real_results, seed_fleet


@pytest.fixture(scope="session")
def l1_results(tmp_path_factory) -> Results:
    if not oscap_available("ubuntu2204"):
        pytest.skip("oscap or the SSG Ubuntu 22.04 datastream is not installed")
    return real_results(tmp_path_factory.mktemp("oscap-l1"), "ubuntu2204", CIS_L1_SERVER)


@pytest.fixture(scope="session")
def l2_results(tmp_path_factory) -> Results:
    if not oscap_available("ubuntu2204"):
        pytest.skip("oscap or the SSG Ubuntu 22.04 datastream is not installed")
    return real_results(tmp_path_factory.mktemp("oscap-l2"), "ubuntu2204", CIS_L2_SERVER)


@pytest.fixture
async def fleet_data(data_dir, l1_results, l2_results) -> Path:
    await seed_fleet(data_dir, l1_results, l2_results)
    return data_dir


@pytest.fixture(autouse=True)
def isolated_home(monkeypatch, home) -> Path:
    """Each test's own HOME (~/.ssh) and no browser: reports are saved, never opened."""
    monkeypatch.setenv("HOME", str(home))
    # The screens are pinned to bookworm's SSG 0.1.65 (rule counts, titles and the Settings
    # snapshot); the newer releases `make test` adds are covered by the CLI and fleet tests.
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "COMPLIANCE_TUI_CONTENT_DIRS",
                 "OPENAI_API_KEY", "OPENAI_BASE_URL", "COMPLIANCE_TUI_LLM_MODEL"):  # no real LLM
        monkeypatch.delenv(name, raising=False)
    return home
