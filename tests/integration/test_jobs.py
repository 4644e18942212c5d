"""The job queue on the test fleet: workers, leases, cancel, the jobs CLI (real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests import procs
from tests.conftest import add_fleet_host
from tests.integration.test_faults import assert_one_line_failure, wait_for

L1, L2 = "cis-level1-server", "cis-level2-server"
SHORT_LEASE = {"COMPLIANCE_TUI_LEASE_SECONDS": "1"}


def background(cli, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tui", *args], env=cli.env | (env or {}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def job(cli, job_id: str, env: dict | None = None) -> dict:
    return cli.ok("jobs", "show", job_id, "--json", env=env).json()


def running_with_progress(cli, job_id: str, env: dict | None = None):
    found = job(cli, job_id, env)
    return found if found["status"] == "running" and found["progress"]["done"] > 0 else None


def oscap_pids(host) -> list[int]:
    """oscap of this played host (in its own mount namespace)."""
    return host.processes(f"{host.root}/oscap.real xccdf eval")


def test_enqueued_scans_wait_for_a_worker_then_run_once(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    add_fleet_host(cli, fleet, "u2004")
    jobs = cli.ok("scan", "u2204", "u2004", "--profile", L1, "--enqueue", "--json", "--priority", "7").json()
    assert [j["status"] for j in jobs] == ["pending", "pending"] and all(j["priority"] == 7 for j in jobs)
    listed = cli.ok("jobs", "list", "--status", "pending", "--json").json()
    assert {j["id"] for j in listed} == {j["id"] for j in jobs}
    assert {s["status"] for s in cli.ok("scans", "list", "--json").json()} == {"pending"}
    try:
        done = cli("worker", "--once", timeout=300)
    except subprocess.TimeoutExpired:
        where = [(j["host"], j["status"], j.get("current")) for j in cli.ok("jobs", "list", "--json").json()]
        raise AssertionError(f"worker --once did not finish in 300 s: {where}") from None
    assert done.returncode == 0, done.stderr
    assert "started" in done.stderr and "completed" in done.stderr  # a line per job, for journald
    for queued in jobs:
        finished = job(cli, queued["id"])
        assert finished["status"] == "completed" and finished["attempts"] == 1
        assert "running oscap xccdf eval" in finished["output"] and "stored" in finished["output"]
        scan = cli.ok("scans", "list", "--host", finished["host"], "--json").json()[0]
        assert scan["id"] == finished["scan_id"] and scan["status"] == "completed"
    assert cli("worker", "--once").returncode == 0  # nothing left: exits at once


def test_cancel_stops_oscap_on_the_target(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    (queued,) = cli.ok("scan", "u2204", "--profile", L2, "--enqueue", "--json").json()
    worker = background(cli, "worker")
    try:
        wait_for(lambda: running_with_progress(cli, queued["id"]), interval=0.05)
        # stopped, oscap cannot finish first; only timeout(1)'s KILL, 10 s after the TERM, ends it
        procs.kill(oscap_pids(fleet.hosts["u2204"]), signal.SIGSTOP)
        cancelled = cli.ok("jobs", "cancel", queued["id"][:8])
        assert "asked it to stop" in cancelled.stdout
        wait_for(lambda: job(cli, queued["id"])["status"] == "cancelled", timeout=30)
        wait_for(lambda: not oscap_pids(fleet.hosts["u2204"]), timeout=60)  # KILL comes 10 s after TERM
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)  # and closes its pipes
    ended = job(cli, queued["id"])
    assert ended["error"] == "cancelled by the operator"
    (scan,) = cli.ok("scans", "list", "--json").json()
    assert_one_line_failure(scan, "cancelled by the operator")
    again = cli.ok("jobs", "cancel", queued["id"])  # cancelling a job that has ended: a clear no-op
    assert "cancelled already: nothing to cancel" in again.stdout


def test_a_worker_killed_mid_scan_has_its_job_requeued_by_lease(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    (queued,) = cli.ok("scan", "u2204", "--profile", L1, "--enqueue", "--json").json()
    worker = background(cli, "worker", "--processes", "1", env=SHORT_LEASE)
    wait_for(lambda: running_with_progress(cli, queued["id"]), interval=0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.communicate()
    time.sleep(1.5)  # the lease runs out
    rescued = cli("worker", "--processes", "1", "--once", env=SHORT_LEASE)
    assert rescued.returncode == 0, rescued.stderr
    finished = job(cli, queued["id"])
    assert finished["status"] == "completed" and finished["attempts"] == 2
    assert "stopped (lease expired); re-queued" in finished["output"]
    assert [s["status"] for s in cli.ok("scans", "list", "--json").json()] == ["completed"]


def test_a_killed_cli_scan_is_recovered_and_a_second_loss_fails_it(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    for attempt in (1, 2):
        if attempt == 1:
            process = background(cli, "scan", "u2204", "--profile", L1, "--json", env=SHORT_LEASE)
            queued = wait_for(lambda: next(iter(cli.ok("jobs", "list", "--json").json()), None))
        else:
            process = background(cli, "worker", "--processes", "1", env=SHORT_LEASE)
        wait_for(lambda: running_with_progress(cli, queued["id"]), interval=0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
        time.sleep(1.5)
        recovered = job(cli, queued["id"], SHORT_LEASE)  # opening the store recovers it
        if attempt == 1:
            assert recovered["status"] == "pending" and recovered["attempts"] == 1
            (scan,) = cli.ok("scans", "list", "--json").json()
            assert scan["status"] == "pending" and scan["progress"]["done"] == 0
    assert_one_line_failure(cli.ok("scans", "list", "--json").json()[0], "worker stopped (lease expired)")
    assert recovered["status"] == "failed" and recovered["attempts"] == 2
    assert cli.ok("jobs", "list", "--status", "running", "--json").json() == []


def test_sigterm_lets_a_worker_hand_its_running_job_back(cli, fleet, known_hosts, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[jobs]\nworker_grace = 0.5\n")
    env = {"COMPLIANCE_TUI_CONFIG": str(config)}
    add_fleet_host(cli, fleet, "u2204")
    (queued,) = cli.ok("scan", "u2204", "--profile", L2, "--enqueue", "--json").json()
    worker = background(cli, "worker", env=env)
    wait_for(lambda: running_with_progress(cli, queued["id"]), interval=0.05)
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "stopping: 1 job(s) running" in err
    released = job(cli, queued["id"])
    assert released["status"] == "pending" and "back in the queue" in released["output"]


def test_jobs_cli_refuses_bad_input_in_one_line(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    (queued,) = cli.ok("scan", "u2204", "--profile", L1, "--enqueue", "--json").json()
    for args, message in (
        (("jobs", "show", "0123456789"), "no job '0123456789'"),
        (("jobs", "cancel", "abc"), "too short"),
        (("jobs", "priority", queued["id"], "11"), "invalid priority '11'"),
        (("jobs", "priority", queued["id"], "high"), "invalid priority 'high'"),
        (("jobs", "list", "--host", "nosuch"), "no host named 'nosuch'"),
        (("scan", "u2204", "--profile", L1, "--priority", "0", "--enqueue"), "invalid priority '0'"),
    ):
        result = cli(*args)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "priority 9" in cli.ok("jobs", "priority", queued["id"][:8], "9").stdout
    shown = cli.ok("jobs", "show", queued["id"][:8]).stdout
    assert "priority   9" in shown and "output:" in shown
    listing = json.loads(cli.ok("jobs", "list", "--json").stdout)
    assert set(listing[0]) >= {"id", "kind", "host", "profile", "priority", "status", "attempts", "created",
                               "started", "finished", "duration_s", "progress", "scan_id", "error", "worker"}
