"""Fixtures of the hardening tests: played hosts of their own, whose /etc the fixes change."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import add_fleet_host, free_port
from tests.fleet.hosts import Fleet, make_client_key

BOOKWORM = {"COMPLIANCE_TUI_CONTENT_DIRS": ""}  # the system's SSG 0.1.65 only
QUICK_SWITCH = {"COMPLIANCE_TUI_LIMITS": "grace_min=2"}  # loopback: a switch may fire after seconds


@pytest.fixture
def hosts(tmp_path):
    """Played Ubuntu 22.04 hosts: `plain` and `pam` (sshd with UsePAM yes), both with fix control."""
    if os.geteuid() != 0:
        pytest.skip("the test fleet needs root (mount namespaces, sshd)")
    base = Path("/var/tmp") / f"compliance-tui-harden-{os.getpid()}-{tmp_path.name}"
    fleet = Fleet(base / "hosts", make_client_key(base / "client"))
    try:
        fleet.add("plain", "ubuntu2204", free_port(), {"fix-control"})
        fleet.add("pam", "ubuntu2204", free_port(), {"pam", "fix-control"})
        yield fleet
    finally:
        fleet.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def ready(cli, hosts, home):
    (home / ".ssh" / "known_hosts").write_text(hosts.known_hosts())
    cli.env |= BOOKWORM | QUICK_SWITCH
    for name in hosts.hosts:
        add_fleet_host(cli, hosts, name)
    return cli
