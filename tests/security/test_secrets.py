"""Secrets: a sudo password and an API key, in the environment as docs/targets.md and docs/ai.md
say, never reach the database, the job logs, exports, reports, crash output, the target's logs or any
process's argv (the command line of every process this test started, the played target's sshd,
sudo and oscap below it too, is sampled while the scans run)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests import procs
from tests.conftest import add_fleet_host, plant_a_bug
from tests.fleet.hosts import PASSWORD_USER, SUDO_PASSWORD
from tests.security.conftest import every_file

pytestmark = pytest.mark.fleet
L1 = "cis-level1-server"
API_KEY = "sk-canary-0123456789abcdefTOPSECRET"
SECRET_ENV = {"PW_VAR": SUDO_PASSWORD, "OPENAI_API_KEY": API_KEY, "COMPLIANCE_TUI_API_KEY": API_KEY}
SECRETS = (SUDO_PASSWORD.encode(), API_KEY.encode())


class ArgvSampler(threading.Thread):
    """Reads the command line of every process below this one every few milliseconds until
    stopped (never the whole machine's: other runs' processes are not ours to judge)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: set[bytes] = set()
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            for pid in procs.descendants(os.getpid()):
                try:
                    self.seen.add(Path(f"/proc/{pid}/cmdline").read_bytes())
                except OSError:
                    pass
            self.samples += 1
            time.sleep(0.005)

    def stop(self) -> set[bytes]:
        self._halt.set()
        self.join()
        return self.seen


def leaks(blob: bytes) -> list[bytes]:
    return [s for s in SECRETS if s in blob]


def test_secrets_never_leave_the_environment(cli, fleet, known_hosts, data_dir, tmp_path):
    add_fleet_host(cli, fleet, "u2204", "pw", user=PASSWORD_USER, extra=("--sudo-password-env", "PW_VAR"))
    outputs: list[bytes] = []
    sampler = ArgvSampler()
    sampler.start()
    try:
        scanned = cli("scan", "pw", "--profile", L1, "--json", env=SECRET_ENV)
        checked = cli("hosts", "check", "pw", env=SECRET_ENV)
        queued = cli("scan", "pw", "--profile", L1, "--enqueue", env=SECRET_ENV)
        worked = cli("worker", "--once", env=SECRET_ENV)
    finally:
        argv = sampler.stop()
    assert sampler.samples > 50
    assert any(b"oscap\0xccdf\0eval" in a or b"oscap xccdf eval" in a for a in argv), "the sampler missed oscap"
    scans = scanned.json()
    assert scans[0]["status"] == "completed", scans[0]["error_message"]
    assert checked.returncode == 0, checked.stderr

    scan_id = scans[0]["id"][:8]
    job = cli.ok("jobs", "list", "--json").json()[0]["id"]
    produced = [
        cli("results", scan_id, "--csv", env=SECRET_ENV), cli("jobs", "show", job, env=SECRET_ENV),
        cli("jobs", "list", "--json", env=SECRET_ENV), cli("scans", "list", "--json", env=SECRET_ENV),
        cli("hosts", "list", "--json", env=SECRET_ENV),
        cli("export", "scans", "--format", "json", "-o", str(tmp_path / "scans.json"), env=SECRET_ENV),
        cli("export", "results", scan_id, "--format", "csv", "-o", str(tmp_path / "r.csv"), env=SECRET_ENV),
        cli("report", scan_id, "-o", str(tmp_path / "report.html"), env=SECRET_ENV),
        cli("report", scan_id, "--oscap", "-o", str(tmp_path / "oscap.html"), env=SECRET_ENV),
    ]
    assert all(r.returncode == 0 for r in produced), [r.stderr for r in produced if r.returncode]

    broken = tmp_path / "broken-data"  # an internal error: the crash log and its stderr line
    plant_a_bug(cli, broken)
    crashed = cli("--data-dir", str(broken), "hosts", "list", env=SECRET_ENV)
    assert crashed.returncode == 1 and "internal error" in crashed.stderr and (broken / "crash.log").is_file()

    for result in (scanned, checked, queued, worked, *produced, crashed):
        outputs += [result.stdout.encode(), result.stderr.encode()]
    places = {f"output {i}": blob for i, blob in enumerate(outputs)}
    for base in (data_dir, tmp_path, broken):
        for path in every_file(base):
            places[str(path)] = path.read_bytes()
    for path in fleet.hosts["u2204"].root.glob("*.log"):  # the target's sshd log
        places[str(path)] = path.read_bytes()
    for index, command in enumerate(argv):
        places[f"argv {command[:80]!r}"] = command
    found = {where: leaks(blob) for where, blob in places.items() if leaks(blob)}
    assert not found, f"secrets found in: {sorted(found)}"
    assert any(p.name == "compliance.db-wal" or p.name == "compliance.db" for p in every_file(data_dir))
