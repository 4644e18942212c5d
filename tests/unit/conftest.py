"""Shared fixtures for unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import made_once
from tests.oscap_results import oscap_available, produce_results


@dataclass(frozen=True)
class OscapResults:
    arf: Path  # ARF as oscap writes it (embeds the datastream and OVAL results)
    xccdf: Path  # plain XCCDF 1.2 results (Benchmark with the TestResult inside)


@pytest.fixture(scope="session")
def oscap_results(tmp_path_factory) -> OscapResults:
    """One real CIS Level 1 Server scan of a played Ubuntu 22.04, shared by the session."""
    if not oscap_available("ubuntu2204"):
        pytest.skip("oscap or the SSG Ubuntu 22.04 datastream is not installed")
    directory = made_once(tmp_path_factory, "oscap-l1", lambda d: produce_results(d))
    return OscapResults(arf=directory / "arf.xml", xccdf=directory / "xccdf.xml")
