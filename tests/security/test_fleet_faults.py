"""Faults on the fleet: each fails only its own scan with a one-line reason, the other scans
complete, and the store stays consistent (PRAGMA integrity_check). Real sshd, sudo and
processes; the failing hosts are played hosts made for this module, so nothing else breaks."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.domain.models import Host
from core.hosts import service
from core.workspace import Workspace
from tests import procs
from tests.conftest import free_port
from tests.fleet.hosts import PASSWORD_USER, _start_sshd, _wait_for_port, make_client_key
from tests.procs import Tracked
from tests.security.conftest import add, integrity, trust, wait_for

pytestmark = pytest.mark.fleet
L1 = "cis-level1-server"


def one_line_failure(scan: dict, *fragments: str) -> None:
    assert scan["status"] == "failed", scan
    message = scan["error_message"]
    assert message and "\n" not in message and len(message) <= 1000, message
    for fragment in fragments:
        assert fragment in message, message


def scans_of(out: str) -> dict[str, dict]:
    return {s["host"]: s for s in json.loads(out)}


def start(cli, *names: str, extra=(), env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tui", "scan", *names, "--profile", L1, "--json", *extra],
                            env=cli.env | (env or {}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def running(data_dir: Path, host: str) -> bool:
    db = data_dir / "compliance.db"
    if not db.exists():
        return False
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT 1 FROM jobs j JOIN hosts h ON h.id = j.host_id WHERE h.name = ? AND "
                           "j.status = 'running' AND j.progress_done > 0", (host,)).fetchone()
    return bool(row)


def descendants(pid: int) -> list[int]:
    """Every process below pid (the played host's sshd listener): its connections' processes."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def restart_sshd(host) -> None:
    host.played.process = _start_sshd(host.played)
    _wait_for_port(host.played.port, host.played)


@pytest.fixture
def quick(cli, fleet, hostile, home):
    host = hostile("quick")
    trust(home, host)
    add(cli, fleet, host)
    return host


@pytest.fixture
def victim(cli, fleet, hostile, home):
    host = hostile("victim")
    if host.played.process.poll() is not None:  # a test before killed it
        restart_sshd(host)
    trust(home, host)
    add(cli, fleet, host)
    yield host
    signal_all(descendants(host.played.process.pid), signal.SIGCONT)


def test_sshd_killed_mid_scan(cli, quick, victim, data_dir):
    victim.behave(sleep=30)
    process = start(cli, "quick", "victim")
    try:
        wait_for(lambda: running(data_dir, "victim"))
        listener = victim.played.process
        pids = [listener.pid, *descendants(listener.pid)]
        signal_all(pids, signal.SIGKILL)
        listener.wait(timeout=10)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
        restart_sshd(victim)
    scans = scans_of(out)
    assert scans["quick"]["status"] == "completed", scans["quick"]["error_message"]
    one_line_failure(scans["victim"], "victim", "connection lost")
    assert integrity(data_dir) == "ok"


def test_network_stalled_past_the_timeout(cli, quick, victim, data_dir):
    """The victim's sshd processes are stopped mid-scan: its TCP connection stays up and silent
    (no reset). The scan gives up at its timeout plus timeout(1)'s grace; quick completes."""
    victim.behave(sleep=60)
    started = time.monotonic()
    process = start(cli, "quick", "victim", extra=("--timeout", "3"))
    stopped: list[int] = []
    try:
        wait_for(lambda: running(data_dir, "victim"))
        stopped = descendants(victim.played.process.pid)
        signal_all(stopped, signal.SIGSTOP)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
        signal_all(stopped, signal.SIGKILL)
        signal_all(stopped, signal.SIGCONT)
    scans = scans_of(out)
    assert scans["quick"]["status"] == "completed", scans["quick"]["error_message"]
    one_line_failure(scans["victim"], "victim", "no answer from the host", "the network or the host hangs")
    assert time.monotonic() - started < 60
    assert integrity(data_dir) == "ok"


def _tmpfs(played, path: Path, size: str, owner: int = 0, mode: str = "0755") -> None:
    done = played.run_inside(["mount", "-t", "tmpfs", "-o", f"size={size},mode={mode},uid={owner},gid={owner}",
                                   "tmpfs", str(path)])
    assert done.returncode == 0, done.stderr


def test_target_disk_full_during_upload_and_during_oscap(cli, fleet, quick, home, data_dir):
    """A real oscap host whose cache (the datastream upload) and then temp dir (oscap's ARF)
    sit on a full disk."""
    played = fleet.hosts.get("diskfull") or fleet.add("diskfull", "ubuntu2204", free_port())
    trust(home, played)
    cli.ok("hosts", "add", "diskfull", "--address", "127.0.0.1", "--port", str(played.port),
           "--user", "scanner", "--identity", str(fleet.client_key))
    cache = played.home / ".cache"
    cache.mkdir(exist_ok=True)
    os.chown(cache, 2001, 2001)
    _tmpfs(played, cache, "64k", owner=2001)
    try:
        out = cli("scan", "quick", "diskfull", "--profile", L1, "--json").stdout
        scans = scans_of(out)
        assert scans["quick"]["status"] == "completed"
        one_line_failure(scans["diskfull"], "diskfull", "upload of", "No space left on device")
    finally:
        played.run_inside(["umount", str(cache)])
    _tmpfs(played, played.root / "tmp", "1m", mode="1777")
    try:
        out = cli("scan", "quick", "diskfull", "--profile", L1, "--json").stdout
        scans = scans_of(out)
        assert scans["quick"]["status"] == "completed"
        one_line_failure(scans["diskfull"], "diskfull", "oscap failed", "temp dir full")
    finally:
        played.run_inside(["umount", str(played.root / "tmp")])
    assert integrity(data_dir) == "ok"


def test_oscap_crashing(cli, quick, victim, data_dir):
    victim.behave(crash="SIGSEGV")
    scans = scans_of(cli("scan", "quick", "victim", "--profile", L1, "--json").stdout)
    assert scans["quick"]["status"] == "completed"
    one_line_failure(scans["victim"], "victim", "oscap crashed twice (killed by SIGSEGV)")
    assert victim.temp_dirs() == []
    assert integrity(data_dir) == "ok"


def test_oscap_crashing_once_is_run_again(cli, victim):
    """oscap 1.3's libapt package probe fails now and then and takes oscap down (SIGSEGV): one
    more run, said in the job's log, and the scan completes."""
    marker = victim.root / "crashed-once"
    victim.behave(crash="SIGSEGV", once=str(marker))
    scans = scans_of(cli("scan", "victim", "--profile", L1, "--json").stdout)
    assert scans["victim"]["status"] == "completed", scans["victim"]["error_message"]
    assert marker.exists()
    output = cli.ok("jobs", "show", scans["victim"]["id"], "--json").json()["output"]
    assert "oscap crashed (killed by SIGSEGV)" in output and "running it once more" in output, output


def test_a_hung_oscap_is_stopped_and_run_again(cli, victim):
    """oscap 1.3 deadlocks now and then (every thread waiting on a lock): silent past the stall
    timeout, it is stopped on the target and run once more; hung twice, the scan fails in one line."""
    short = {"COMPLIANCE_TUI_STALL_SECONDS": "2"}
    victim.behave(sleep=120, once=str(victim.root / "hung-once"))
    scans = scans_of(cli("scan", "victim", "--profile", L1, "--json", env=short).stdout)
    assert scans["victim"]["status"] == "completed", scans["victim"]["error_message"]
    output = cli.ok("jobs", "show", scans["victim"]["id"], "--json").json()["output"]
    assert "oscap printed no progress for 2 s and was stopped" in output and "running it once more" in output
    wait_for(lambda: not victim.processes(), timeout=15)  # the hung one was stopped on the target

    victim.behave(sleep=120)
    scans = scans_of(cli("scan", "victim", "--profile", L1, "--json", env=short).stdout)
    one_line_failure(scans["victim"], "victim", "oscap printed no progress for 2 s, twice and was stopped")
    wait_for(lambda: not victim.processes(), timeout=15)
    assert victim.temp_dirs() == []


def test_oscap_killed_is_not_run_again(cli, victim):
    """Killed by someone (SIGTERM), not a fault of oscap's: the scan fails at once."""
    victim.behave(crash="SIGTERM")
    scans = scans_of(cli("scan", "victim", "--profile", L1, "--json").stdout)
    one_line_failure(scans["victim"], "victim", "oscap crashed (killed by SIGTERM)")


def test_fifty_scans_at_once_five_failing_differently(cli, fleet, quick, victim, home, tmp_path, data_dir):
    """45 names for the quick host and five that fail: unreachable, a wrong key, an unknown host
    key, sudo wanting a password, oscap crashing. All at once (max 50 concurrent)."""
    names = [f"q{i:02d}" for i in range(45)]
    asyncio.run(_add_many(data_dir, names, quick.played.port, str(fleet.client_key)))
    victim.behave(crash="SIGABRT")
    add(cli, fleet, victim, "crashing")
    cli.ok("hosts", "add", "gone", "--address", "127.0.0.1", "--port", str(free_port()), "--user", "scanner")
    stranger = make_client_key(tmp_path / "stranger")
    port = str(quick.played.port)
    cli.ok("hosts", "add", "wrongkey", "--address", "127.0.0.1", "--port", port, "--user", "scanner",
           "--identity", str(stranger))
    (tmp_path / "empty_known_hosts").write_text("")
    cli.ok("hosts", "add", "unknownkey", "--address", "127.0.0.1", "--port", port, "--user", "scanner",
           "--identity", str(fleet.client_key), "--known-hosts", str(tmp_path / "empty_known_hosts"))
    add(cli, fleet, quick, "needspw", user=PASSWORD_USER)
    failing = {"gone": "unreachable", "wrongkey": "authentication failed", "unknownkey": "unknown host key",
               "needspw": "sudo needs a password", "crashing": "oscap crashed twice (killed by SIGABRT)"}
    started = time.monotonic()
    result = cli("scan", *names, *failing, "--profile", L1, "--json", "--max-concurrent", "50")
    took = time.monotonic() - started
    scans = scans_of(result.stdout)
    assert result.returncode == 1 and len(scans) == 50
    done = [n for n in names if scans[n]["status"] == "completed"]
    assert len(done) == 45, {n: scans[n]["error_message"] for n in names if n not in done}
    for name, reason in failing.items():
        one_line_failure(scans[name], name, reason)
    assert integrity(data_dir) == "ok"
    assert took < 120, f"50 scans took {took:.0f} s"


async def _add_many(data_dir: Path, names: list[str], port: int, key: str) -> None:
    async with await Workspace.open(data_dir) as workspace:  # 45 `hosts add` processes take 20 s
        for name in names:
            await service.add_host(workspace, Host(name=name, address="127.0.0.1", port=port,
                                                   username="scanner", identity_file=key))


def test_app_killed_mid_scan(cli, victim, data_dir):
    """SIGKILL to the scanning process while oscap runs: its job is recovered (no scan stays
    running), nothing stored is lost, and the next scan of that host stops the orphaned oscap
    and removes what the killed scan left on the target."""
    victim.behave()
    assert cli("scan", "victim", "--profile", L1, "--json").json()[0]["status"] == "completed"
    victim.behave(sleep=120)
    short = {"COMPLIANCE_TUI_LEASE_SECONDS": "1"}
    process = start(cli, "victim", env=short)
    wait_for(lambda: running(data_dir, "victim"))
    wait_for(lambda: victim.processes())
    orphaned = victim.temp_dirs()
    assert len(orphaned) == 1
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)

    time.sleep(1.5)  # the lease runs out
    jobs = cli.ok("jobs", "list", "--json", env=short).json()
    assert all(j["status"] != "running" for j in jobs), jobs  # recovered: back in the queue
    victim.behave()
    worked = cli("worker", "--processes", "1", "--once", env=short)  # runs the recovered scan: the next scan of the host
    assert worked.returncode == 0, worked.stderr
    scans = cli.ok("scans", "list", "--json", env=short).json()
    assert [s["status"] for s in scans] == ["completed", "completed"], [s["error_message"] for s in scans]
    wait_for(lambda: not victim.processes(), timeout=15)  # "the killed scan's oscap still runs"
    assert victim.temp_dirs() == [], "the killed scan's temp dir is still on the target"
    assert integrity(data_dir) == "ok"


def test_a_host_offering_only_rsa_after_ed25519_is_a_host_key_change(cli, fleet, home, data_dir):
    """known_hosts trusts the host's ed25519 key; the host now offers only an RSA key. The key
    exchange fails (no common key type): that is reported as a host key change, not as a lost
    connection, and nothing is trusted."""
    played = fleet.hosts.get("rsaonly") or fleet.add("rsaonly", "ubuntu2204", free_port())
    trust(home, played)  # its ed25519 key
    ssh = played.root / "etc/ssh"
    if not (ssh / "ssh_host_rsa_key").exists():
        signal_all([played.process.pid, *descendants(played.process.pid)], signal.SIGTERM)
        played.process.wait(timeout=10)
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(ssh / "ssh_host_rsa_key")],
                       check=True)
        config = (ssh / "sshd_config").read_text()
        (ssh / "sshd_config").write_text(config.replace("ssh_host_ed25519_key", "ssh_host_rsa_key"))
        played.process = _start_sshd(played)
        _wait_for_port(played.port, played)
    cli.ok("hosts", "add", "rsaonly", "--address", "127.0.0.1", "--port", str(played.port), "--user", "scanner",
           "--identity", str(fleet.client_key))
    (found,) = cli("scan", "rsaonly", "--profile", L1, "--json").json()
    one_line_failure(found, "rsaonly", "HOST KEY CHANGED (now ssh-rsa SHA256:")
    assert "connection lost" not in found["error_message"].lower()
    check = cli("hosts", "check", "rsaonly")
    assert check.returncode == 1 and "HOST KEY CHANGED" in check.stderr and "hosts trust rsaonly" in check.stderr
    refused = cli("hosts", "trust", "rsaonly", "--yes")
    assert refused.returncode == 1 and "different key" in refused.stderr
    assert integrity(data_dir) == "ok"


def test_22_6_sigkill_of_a_worker_mid_scan_recovers_its_job(cli, victim, data_dir):
    """A `compliance-tui worker` is killed with SIGKILL while oscap runs on the target: the job
    comes back (re-queued once, its lease expired) with one line in its log, nothing of the
    worker is left running here, the next worker runs it to the end, and the orphaned oscap
    and temp dir on the target are cleaned up by that run."""
    victim.behave(sleep=120)
    short = {"COMPLIANCE_TUI_LEASE_SECONDS": "1"}
    cli.ok("scan", "victim", "--profile", L1, "--enqueue", env=short)
    worker = subprocess.Popen([sys.executable, "-m", "tui", "worker", "--processes", "1"], env=cli.env | short,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tracked = Tracked()
    try:
        wait_for(lambda: running(data_dir, "victim"))
        wait_for(lambda: victim.processes())
        tracked.add([worker.pid, *procs.descendants(worker.pid)])
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        worker.kill()
        worker.communicate(timeout=10)
    time.sleep(1.5)  # the lease runs out
    (job,) = cli.ok("jobs", "list", "--json", env=short).json()
    assert job["status"] in ("queued", "pending", "failed"), job
    if job["status"] == "failed":
        assert job["error"] and "\n" not in job["error"], job
    assert tracked.alive() == [], "the killed worker left processes running"
    shown = cli.ok("jobs", "show", job["id"][:8], env=short).stdout
    assert "lease expired" in shown, shown
    victim.behave()
    worked = cli("worker", "--processes", "1", "--once", env=short)
    assert worked.returncode == 0, worked.stderr
    (scan,) = cli.ok("scans", "list", "--json", env=short).json()
    assert scan["status"] == "completed", scan
    wait_for(lambda: not victim.processes(), timeout=15)
    assert victim.temp_dirs() == []
    assert integrity(data_dir) == "ok"


def test_22_6_a_target_that_stalls_mid_transfer_is_given_up_at_the_transfer_timeout(cli, quick, victim, data_dir,
                                                                                    tmp_path):
    """The victim's results begin to arrive, then nothing more comes (its ARF is a pipe whose
    writer stops): the transfer is given up at [jobs] transfer_timeout with one line, nothing
    is stored for it, and the other scan completes."""
    started = victim.root / "transfer-started"
    started.unlink(missing_ok=True)
    victim.behave(arf="fifo_stall", started_file=str(started), stall=120)
    config = tmp_path / "config.toml"
    config.write_text("[jobs]\ntransfer_timeout = 5\n")
    try:
        done = cli("scan", "quick", "victim", "--profile", L1, "--json", env={"COMPLIANCE_TUI_CONFIG": str(config)})
        ended = time.time()
        scans = scans_of(done.stdout)
        assert scans["quick"]["status"] == "completed", scans["quick"]["error_message"]
        one_line_failure(scans["victim"], "victim: the results did not arrive within 5 s", "transfer stalled",
                         "nothing was stored")
        took = ended - float(started.read_text())
        assert took < 5 + 2, f"given up {took:.1f} s after the transfer began"
    finally:
        procs.kill([int(p) for p in victim.processes()])  # the stalled writer on the target
    evidence = [p.name for p in (data_dir / "evidence").glob("*.arf*")]
    assert not any(scans["victim"]["id"] in name for name in evidence)
    assert integrity(data_dir) == "ok"
