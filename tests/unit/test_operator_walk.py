"""Small frictions of an operator's walk (issue 23, item 14): the CLI's warnings are one clean
line, host:port is written the way ssh writes it, and the host key types asked for go
strongest first."""

from __future__ import annotations

import io
import logging

import pytest

from core.domain.errors import ConnectionLost
from core.domain.models import Host, host_port
from core.targets import remote
from core.targets.ssh import key_algorithms
from core.targets.transport import LocalTransport
from tui.cli import OneLineFormatter


class DroppedLink(LocalTransport):
    """This machine, its link dropping as the scan's temp dir is removed (what a real SSH link
    does when the target goes away; a local command cannot lose its link)."""

    async def _start(self, command: str):
        raise ConnectionLost(f"{self.host_name}: the connection was lost\n(the server closed it)")


@pytest.fixture
def stderr():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLineFormatter())
    logger = logging.getLogger("core.targets.remote")
    logger.addHandler(handler)
    yield out
    logger.removeHandler(handler)


async def test_a_temp_dir_left_behind_is_one_clean_warning(stderr, tmp_path):
    work = remote.Workdir(str(tmp_path / f"{remote.TEMP_PREFIX}x1"), str(tmp_path / "cache"))
    await remote.discard(DroppedLink("web1"), work)
    said = stderr.getvalue()
    assert said == (f"warning: web1: could not remove the scan's temp dir {work.tmp} (web1: the connection "
                    "was lost (the server closed it)); the host's next scan removes it\n")


def test_cli_log_lines_are_lowercase_one_line_and_redacted():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "first\nsecond \x1b[2J api_key=%s", ("sk-abcdef123456789",),
                               None)
    assert OneLineFormatter().format(record) == "error: first second \\x1b[2J api_key=***"


def test_host_port_brackets_ipv6():
    assert host_port("10.0.0.5", 22) == "10.0.0.5:22"
    assert host_port("::1", 2401) == "[::1]:2401"
    assert Host(name="v6", address="2001:db8::5", port=2222).endpoint == "[2001:db8::5]:2222"
    assert Host(name="n", address="web1.example.com").endpoint == "web1.example.com:22"


def test_host_key_types_strongest_first():
    asked = key_algorithms()
    assert asked[0] == "ssh-ed25519"
    assert asked.index("ecdsa-sha2-nistp256") < asked.index("rsa-sha2-512") < asked.index("ssh-rsa")
    # known_hosts holds an RSA key: SHA-2 signatures first (OpenSSH 8.8 refuses ssh-rsa's SHA-1)
    assert key_algorithms(["ssh-rsa"]) == ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
    assert key_algorithms(["ssh-rsa", "ssh-ed25519"])[0] == "ssh-ed25519"
