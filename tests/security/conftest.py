"""Fixtures of the security and reliability suite: played hosts whose oscap and /etc are hostile.

A hostile host is a played host of the test fleet (real sshd, sudo, mount namespace) whose
/usr/bin/oscap runs tests/security/fake_oscap.py: the test writes what it should print and
write (fake-oscap.json in the host's root) and its /etc/os-release. Such a host answers in well
under a second, so the suite can run fifty scans at once.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CliResult, add_fleet_host, free_port
from tests.oscap_results import PLAYED_OS

FAKE = Path(__file__).with_name("fake_oscap.py")
ESC_PAYLOAD = (  # what a hostile target sends: title, clear screen, alternate screen, clipboard, CSI
    "\x1b]0;pwned-title\x07\x1b[2J\x1b[?1049h\x1b]52;c;cm0gLXJmIH4=\x07\x9b31m"
)
MARKUP_PAYLOAD = "[bold]x[/] [@click=app.quit]q[/] [link=x]l[/] [@click=app.screenshot('/tmp/pwn')]s[/]"
RAW_CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))]


class HostileHost:
    """A played host whose oscap does what the test says."""

    def __init__(self, played):
        self.played = played
        self.name = played.name
        self.root = played.root
        self.behaviour_path = self.root / "fake-oscap.json"

    def behave(self, **behaviour) -> None:
        self.behaviour_path.write_text(json.dumps(behaviour))
        self.behaviour_path.chmod(0o644)

    def os_release(self, pretty_name: str, **fields: str) -> None:
        base = dict(line.split("=", 1) for line in PLAYED_OS["ubuntu2204"][0].splitlines() if "=" in line)
        base["PRETTY_NAME"] = f'"{pretty_name}"'  # raw: escape sequences and all
        base.update(fields)
        (self.root / "etc/os-release").write_text("".join(f"{k}={v}\n" for k, v in base.items()))

    def temp_dirs(self) -> list[Path]:
        return sorted((self.root / "tmp").glob("compliance-tui.*"))

    def processes(self) -> list[int]:
        """Pids of this host's fake oscap (in its own mount namespace)."""
        return self.played.processes(f"{self.root}/fake_oscap.py")


@pytest.fixture(scope="session")
def hostile(fleet):
    """make(name) -> a HostileHost (created once per session, reset to a quick, honest oscap)."""
    made: dict[str, HostileHost] = {}

    def make(name: str) -> HostileHost:
        if name not in made:
            played = fleet.add(name, "ubuntu2204", free_port())
            shutil.copy(FAKE, played.root / "fake_oscap.py")
            (played.root / "fake_oscap.py").chmod(0o755)
            # rewritten in place: the wrapper's inode is what the host's /usr/bin/oscap shows
            (played.root / "oscap-wrapper").write_text(
                f'#!/bin/sh\nexec /usr/bin/python3 {played.root}/fake_oscap.py {played.root}/fake-oscap.json "$@"\n')
            made[name] = HostileHost(played)
        host = made[name]
        host.behave()
        host.os_release("Ubuntu 22.04.4 LTS")
        for stale in host.temp_dirs():
            shutil.rmtree(stale, ignore_errors=True)
        return host

    return make


def trust(home: Path, *hosts) -> None:
    """Add the played hosts' keys to the test HOME's known_hosts."""
    path = home / ".ssh" / "known_hosts"
    with open(path, "a") as out:
        for host in hosts:
            out.write((host.played if isinstance(host, HostileHost) else host).known_hosts_line())


def add(cli, fleet, host, as_name: str | None = None, **kwargs) -> str:
    return add_fleet_host(cli, fleet, host.name, as_name, **kwargs)


def integrity(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "compliance.db") as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def assert_inert(text: str, where: str = "") -> None:
    """No control character a terminal would act on (tab and newline are fine)."""
    found = sorted({f"\\x{ord(c):02x}" for c in text if c in RAW_CONTROLS})
    assert not found, f"raw control characters {found} in {where}: {text[:300]!r}"


PEAK = "peak-rss-kib="
# VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across exec, so a child forked from a
# large pytest process would report pytest's size, not its own.
MEASURED = (
    "import re, sys\n"
    "from tui.entry import main\n"
    "try:\n    code = main(sys.argv[1:])\nfinally:\n"
    "    hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
    f"    print('{PEAK}' + hwm, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def measured(cli, *args: str, env: dict | None = None, timeout: float = 600):
    """Run a CLI command as its own process; returns (CliResult, its peak RSS in MiB)."""
    done = subprocess.run([sys.executable, "-c", MEASURED, *args], capture_output=True, text=True,
                          env=cli.env | (env or {}), timeout=timeout)
    lines = done.stderr.splitlines()
    peak = next(int(line[len(PEAK):]) for line in lines if line.startswith(PEAK)) / 1024
    stderr = "".join(line + "\n" for line in lines if not line.startswith(PEAK))
    return CliResult(done.returncode, done.stdout, stderr), peak


MANY = (
    "import contextlib, io, json, sys\n"
    "from tui.entry import main\n"
    "results = []\n"
    "for argv in json.load(sys.stdin):\n"
    "    out, err = io.StringIO(), io.StringIO()\n"
    "    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
    "        try:\n            code = main(argv)\n"
    "        except SystemExit as exc:\n            code = exc.code\n"
    "    results.append([code, out.getvalue(), err.getvalue()])\n"
    "json.dump(results, sys.stdout)\n"
)


def cli_many(cli, commands: list[list[str]], env: dict | None = None) -> list[CliResult]:
    """Run many CLI commands through tui.cli.main in one process (the same code a shell runs,
    without 0.4 s of start-up each): for the tables of refused inputs."""
    done = subprocess.run([sys.executable, "-c", MANY], input=json.dumps(commands), capture_output=True,
                          text=True, env=cli.env | (env or {}), timeout=600)
    assert done.returncode == 0, done.stderr
    return [CliResult(code if isinstance(code, int) else 2, out, err) for code, out, err in json.loads(done.stdout)]


def wait_for(predicate, timeout: float = 60, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def every_file(base: Path):
    for root, dirs, files in os.walk(base):
        for name in files:
            yield Path(root) / name
