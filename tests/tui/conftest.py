"""Fixtures of the TUI tests (helpers live in tests/tui/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import made_once
from tests.oscap_results import oscap_available, produce_results
from tests.tui.helpers import CIS_L2_SERVER, Results, read_results, seed_fleet


@pytest.fixture(scope="session")
def l1_results(tmp_path_factory) -> Results:
    if not oscap_available("ubuntu2204"):
        pytest.skip("oscap or the SSG Ubuntu 22.04 datastream is not installed")
    return read_results(made_once(tmp_path_factory, "oscap-l1", lambda d: produce_results(d)))


@pytest.fixture(scope="session")
def l2_results(tmp_path_factory) -> Results:
    if not oscap_available("ubuntu2204"):
        pytest.skip("oscap or the SSG Ubuntu 22.04 datastream is not installed")
    return read_results(made_once(tmp_path_factory, "oscap-l2",
                                  lambda d: produce_results(d, "ubuntu2204", CIS_L2_SERVER)))


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
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "COMPLIANCE_TUI_CONTENT_DIRS", "XDG_DATA_HOME",
                 "OPENAI_API_KEY", "OPENAI_BASE_URL", "COMPLIANCE_TUI_LLM_MODEL"):  # no real LLM
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="module")
def snapshot_home(tmp_path_factory) -> Path:
    """A home of the module's own: Settings shows the data dir and config file under it as
    ~/data and ~/config.toml, the same on every run, whatever the temp dir is called."""
    return tmp_path_factory.mktemp("snapshot-home")


@pytest.fixture
def fixed_home(monkeypatch, snapshot_home):
    monkeypatch.setenv("HOME", str(snapshot_home))
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(snapshot_home / "config.toml"))
