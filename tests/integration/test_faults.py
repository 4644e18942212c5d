"""Each fault fails only its own scan, with a one-line reason; other scans go on."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.targets.osinfo import oscap_package, parse_os_release
from tests import procs
from tests.conftest import add_fleet_host, free_port
from tests.fleet.hosts import PASSWORD_USER, SUDO_PASSWORD, make_client_key
from tests.oscap_results import PLAYED_OS

L1 = "cis-level1-server"


def scan_json(cli, *names, extra=()):
    result = cli("scan", *names, "--profile", L1, "--json", *extra)
    return result.returncode, {s["host"]: s for s in result.json()}


def assert_one_line_failure(scan, *fragments):
    assert scan["status"] == "failed"
    message = scan["error_message"]
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_unreachable_host_fails_alone(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    cli.ok("hosts", "add", "ghost", "--address", "127.0.0.1", "--port", str(free_port()), "--user", "scanner")
    code, scans = scan_json(cli, "u2204", "ghost")
    assert code == 1
    assert scans["u2204"]["status"] == "completed", scans["u2204"]["error_message"]
    assert_one_line_failure(scans["ghost"], "ghost", "unreachable")
    hosts = {h["name"]: h for h in cli.ok("hosts", "list", "--json").json()}
    assert hosts["ghost"]["status"] == "offline" and hosts["u2204"]["status"] == "online"


def test_authentication_failure(cli, fleet, known_hosts, tmp_path):
    stranger = make_client_key(tmp_path / "stranger")
    add_fleet_host(cli, fleet, "u2204")
    cli.ok("hosts", "add", "wrongkey", "--address", "127.0.0.1", "--port",
           str(fleet.hosts["u2204"].port), "--user", "scanner", "--identity", str(stranger))
    _, scans = scan_json(cli, "wrongkey")
    assert_one_line_failure(scans["wrongkey"], "authentication failed", "scanner")


def test_unknown_host_key_is_refused_until_trusted(cli, fleet, home):
    add_fleet_host(cli, fleet, "u2204")
    _, scans = scan_json(cli, "u2204")
    fingerprint = fleet_fingerprint(fleet.hosts["u2204"])
    assert_one_line_failure(scans["u2204"], "unknown host key", fingerprint, "hosts trust u2204")

    check = cli("hosts", "check", "u2204")  # Check names the key, not a failed login
    assert "host key       UNKNOWN: not trusted yet" in check.stdout
    assert "authenticated  not tried" in check.stdout and "hosts trust u2204" in check.stderr

    refused = cli("hosts", "trust", "u2204")  # no terminal: must not trust without --yes
    assert refused.returncode == 1 and fingerprint in refused.stdout
    assert not (home / ".ssh" / "known_hosts").exists()

    trusted = cli.ok("hosts", "trust", "u2204", "--yes")
    assert fingerprint in trusted.stdout
    assert cli.ok("hosts", "check", "u2204", "--json").json()["ready"] is True


def test_changed_host_key_is_always_refused(cli, fleet, home, tmp_path):
    port = fleet.hosts["u2204"].port
    impostor = make_client_key(tmp_path / "impostor").with_suffix(".pub").read_text().split()
    known = home / ".ssh" / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {impostor[0]} {impostor[1]}\n")
    add_fleet_host(cli, fleet, "u2204")
    _, scans = scan_json(cli, "u2204")
    assert_one_line_failure(scans["u2204"], "HOST KEY CHANGED", fleet_fingerprint(fleet.hosts["u2204"]))

    assert "host key       CHANGED: refused" in cli("hosts", "check", "u2204").stdout
    refused = cli("hosts", "trust", "u2204", "--yes")
    assert refused.returncode == 1 and "CHANGED" in refused.stderr
    assert known.read_text().count("\n") == 1, "the old key must not be replaced"


def test_connection_faults_are_said_in_the_operators_words(cli, fleet, known_hosts, tmp_path):
    port = str(fleet.hosts["u2204"].port)
    not_a_key = tmp_path / "not-a-key"
    not_a_key.write_text("hello\n")
    gone = tmp_path / "gone"  # there when the host was added, removed since
    gone.write_text("")
    locked = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", str(locked)], check=True)
    cases = {
        "closed": (["--port", str(free_port())], "nothing listens on that port: check the port"),
        "nowhere": (["--address", "no-such-host.invalid"], "the name does not resolve: check the address"),
        "nokey": (["--identity", str(gone)], f"identity file {gone} does not exist"),
        "badkey": (["--identity", str(not_a_key)], f"identity file {not_a_key} is not a private key"),
        "locked": (["--identity", str(locked)], "is protected by a passphrase; load it into ssh-agent"),
    }
    for name, (options, words) in cases.items():
        address = [] if "--address" in options else ["--address", "127.0.0.1"]
        cli.ok("hosts", "add", name, *address, "--port", port, "--user", "scanner", *options)
        if name == "nokey":
            gone.unlink()
        check = cli("hosts", "check", name)
        error = check.stderr.strip()
        assert check.returncode == 1 and words in error and error.count("\n") == 0, error
        assert "Errno" not in error and "(" not in error.partition(")")[2], error  # no Python text
    _, scans = scan_json(cli, "closed", "nokey")
    assert_one_line_failure(scans["closed"], "closed (127.0.0.1:", "is unreachable: nothing listens on that port")
    assert_one_line_failure(scans["nokey"], "identity file", "does not exist")


def test_sudo_needing_a_password(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204", "pw", user=PASSWORD_USER)
    _, scans = scan_json(cli, "pw")
    assert_one_line_failure(scans["pw"], "sudo needs a password", "--sudo-password-env")


def test_sudo_password_from_environment_never_stored(cli, fleet, known_hosts, data_dir):
    add_fleet_host(cli, fleet, "u2204", "pw", user=PASSWORD_USER, extra=("--sudo-password-env", "PW_VAR"))
    missing = cli("scan", "pw", "--profile", L1, "--json")
    assert_one_line_failure(missing.json()[0], "PW_VAR", "not set")

    wrong = cli("scan", "pw", "--profile", L1, "--json", env={"PW_VAR": "not-it"})
    assert_one_line_failure(wrong.json()[0], "rejected the password")

    right = cli("scan", "pw", "--profile", L1, "--json", env={"PW_VAR": SUDO_PASSWORD})
    assert right.json()[0]["status"] == "completed", right.json()[0]["error_message"]
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert SUDO_PASSWORD.encode() not in path.read_bytes(), path


def test_oscap_missing_names_the_package(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "nooscap")
    _, scans = scan_json(cli, "nooscap")
    package = oscap_package(parse_os_release(PLAYED_OS["ubuntu2204"][0]))
    assert_one_line_failure(scans["nooscap"], "oscap is not installed", "Ubuntu 22.04",
                            f"apt-get install {package}")
    check = cli("hosts", "check", "nooscap", "--json")
    assert check.returncode == 1
    assert check.json()["reachable"] and not check.json()["oscap"]


def test_oscap_exit_1_reports_oscaps_own_error(cli, fleet, known_hosts, data_dir):
    """A damaged datastream (newer version, so it is chosen): oscap refuses it with exit 1."""
    original = Path("/usr/share/xml/scap/ssg/content/ssg-ubuntu2204-ds.xml").read_text()
    start = original.index("<ds:data-stream ")
    damaged = (original[:start] + "<ds:bogus-element/>" + original[start:]).replace(
        ">0.1.65</xccdf-1.2:version>", ">9.9.9</xccdf-1.2:version>")
    (data_dir / "content").mkdir()
    (data_dir / "content" / "ssg-ubuntu2204-ds.xml").write_text(damaged)
    add_fleet_host(cli, fleet, "u2204")
    _, scans = scan_json(cli, "u2204")
    assert_one_line_failure(scans["u2204"], "oscap failed (exit 1)", "bogus-element")


def test_hung_oscap_times_out(cli, fleet, known_hosts, data_dir):
    """oscap stops answering mid-scan (SIGSTOP, as in an uninterruptible wait)."""
    add_fleet_host(cli, fleet, "u2204")
    add_fleet_host(cli, fleet, "u2004")
    host = fleet.hosts["u2204"]
    started = time.monotonic()
    # a limit the other host's scan meets even on a machine busy with the rest of the suite
    process = start_scan_process(cli, "u2204", "u2004", extra=("--timeout", "12"))
    try:
        oscap = f"{host.root}/oscap.real xccdf eval"
        pids = wait_for(lambda: host.processes(oscap), 0.02)
        procs.kill(pids, signal.SIGSTOP)
        out, _ = process.communicate(timeout=120)
    finally:
        procs.kill(host.processes(oscap))
    scans = {s["host"]: s for s in json.loads(out)}
    assert_one_line_failure(scans["u2204"], "did not finish within 12 s")
    assert scans["u2004"]["status"] == "completed", scans["u2004"]["error_message"]
    assert time.monotonic() - started < 60


def wait_for(predicate, interval=0.1, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def running_with_progress(db: Path, host: str):
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT s.id FROM scans s JOIN hosts h ON h.id = s.host_id "
            "WHERE h.name = ? AND s.status = 'running' AND s.progress_done > 0", (host,)).fetchone()
    return row and row[0]


def start_scan_process(cli, *names, extra=()) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "scan", *names, "--profile", L1, "--json", *extra],
        env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_connection_lost_mid_scan(cli, fleet, known_hosts, data_dir):
    add_fleet_host(cli, fleet, "u2204")
    add_fleet_host(cli, fleet, "u2004")
    process = start_scan_process(cli, "u2204", "u2004")
    wait_for(lambda: running_with_progress(data_dir / "compliance.db", "u2004"))
    fleet.hosts["u2004"].kill_sessions()
    out, err = process.communicate(timeout=300)
    scans = {s["host"]: s for s in json.loads(out)}
    assert scans["u2204"]["status"] == "completed", scans["u2204"]["error_message"]
    assert_one_line_failure(scans["u2004"], "u2004", "connection lost")


def test_invalid_input_is_rejected_before_anything_runs(cli, data_dir):
    cases = [
        (("hosts", "add", "bad name!", "--address", "10.0.0.1"), "invalid host name"),
        (("hosts", "add", "web1", "--address=-oProxyCommand=evil"), "invalid address"),
        (("hosts", "add", "web1", "--address", "10.0.0.1", "--port", "70000"), "invalid port"),
        (("hosts", "add", "web1", "--address", "10.0.0.1", "--port", "ssh"), "invalid port"),
        (("hosts", "add", "web1", "--address", "10.0.0.1", "--sudo-password-env", "hunter2 pw"),
         "invalid variable name"),
        (("scan", "localhost", "--profile", "cis; rm -rf /"), "invalid profile"),
        (("scan", "nosuchhost", "--profile", L1), "no host named 'nosuchhost'"),
        (("results", "1234"), "too short"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.returncode == 1, args
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert [h["name"] for h in cli.ok("hosts", "list", "--json").json()] == ["localhost"]
    assert cli.ok("scans", "list", "--json").json() == []


def fleet_fingerprint(host) -> str:
    done = subprocess.run(["ssh-keygen", "-l", "-f", str(host.root / "etc/ssh/ssh_host_ed25519_key.pub")],
                          capture_output=True, text=True, check=True)
    return done.stdout.split()[1]  # SHA256:...


def test_a_killed_app_takes_its_local_oscap_with_it(cli, home):
    """The local machine's scan runs oscap as a child: kill -9 of the app must not leave it
    running for its hour (setpriv's parent-death signal, which timeout(1) passes on)."""
    process = subprocess.Popen([sys.executable, "-m", "tui", "scan", "localhost", "--profile", L1, "--json"],
                               env=cli.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    oscap = procs.Tracked()  # this test's oscap: below the app while it lives, followed after

    def local_oscap() -> list[int]:
        return oscap.add([pid for pid in procs.descendants(process.pid)
                          if procs.command_name(pid) == "oscap"])  # a pid may end meanwhile

    try:
        wait_for(lambda: local_oscap() or process.poll() is not None, interval=0.1, timeout=180)
        if process.poll() is not None:
            pytest.skip("no CIS content for this machine's own OS here (make test fetches it)")
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        wait_for(lambda: not oscap.alive(), interval=0.2, timeout=20)
    finally:
        process.kill()
