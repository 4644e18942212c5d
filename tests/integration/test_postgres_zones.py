"""One PostgreSQL store shared by real processes on the test fleet: workers per zone, a worker
killed mid-scan, and `store migrate` of a store filled by real scans (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from core.domain.explanations import Explanation
from core.domain.store_url import ENV_STORE
from tests.conftest import Cli, add_fleet_host
from tests.integration.test_faults import wait_for
from tests.integration.test_jobs import L1, SHORT_LEASE, background, job, running_with_progress


@pytest.fixture
def pg_cli(cli, pg_url, pg_server) -> Cli:
    """The real CLI on the test's PostgreSQL database (the password from $PGPASSWORD)."""
    cli.env |= {ENV_STORE: pg_url} | pg_server.env()
    return cli


def finish(process: subprocess.Popen, timeout: float = 300) -> str:
    try:
        _out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"worker {process.args} did not finish in {timeout} s") from None
    assert process.returncode == 0, err
    return err


def test_two_workers_in_two_zones_scan_only_their_zones_hosts(pg_cli, fleet, known_hosts):
    add_fleet_host(pg_cli, fleet, "u2204", extra=("--zone", "east"))
    add_fleet_host(pg_cli, fleet, "u2004", extra=("--zone", "west"))
    zones = {h["name"]: h["zone"] for h in pg_cli.ok("hosts", "list", "--json").json()}
    assert zones == {"localhost": None, "u2204": "east", "u2004": "west"}
    assert "east" in pg_cli.ok("hosts", "list").stdout
    jobs = {j["host"]: j for j in pg_cli.ok("scan", "u2204", "u2004", "--profile", L1, "--enqueue", "--json").json()}
    unzoned = pg_cli("worker", "--once", timeout=120)  # hosts without a zone only: nothing to do
    assert unzoned.returncode == 0 and "of hosts without a zone" in unzoned.stderr
    assert {job(pg_cli, j["id"])["status"] for j in jobs.values()} == {"pending"}
    east = background(pg_cli, "worker", "--processes", "1", "--once", "--zone", "east")
    west = background(pg_cli, "worker", "--processes", "1", "--once", "--zone", "west")
    said = {"east": finish(east), "west": finish(west)}
    for host, zone, process in (("u2204", "east", east), ("u2004", "west", west)):
        ran = job(pg_cli, jobs[host]["id"])
        assert ran["status"] == "completed" and ran["attempts"] == 1, ran["error"]
        assert f":{process.pid}:" in ran["worker"], f"{host}'s job ran on {ran['worker']}, not the {zone} worker"
        assert f"of zone {zone}" in said[zone] and host in said[zone]
    assert "u2004" not in said["east"] and "u2204" not in said["west"]
    scans = pg_cli.ok("scans", "list", "--json").json()
    assert sorted((s["host"], s["status"]) for s in scans) == [("u2004", "completed"), ("u2204", "completed")]


def test_a_zone_worker_killed_mid_scan_has_its_job_requeued_after_the_lease(pg_cli, fleet, known_hosts):
    add_fleet_host(pg_cli, fleet, "u2204", extra=("--zone", "east"))
    (queued,) = pg_cli.ok("scan", "u2204", "--profile", L1, "--enqueue", "--json").json()
    worker = background(pg_cli, "worker", "--processes", "1", "--zone", "east", env=SHORT_LEASE)
    wait_for(lambda: running_with_progress(pg_cli, queued["id"]), interval=0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.communicate()
    time.sleep(1.5)  # the lease runs out
    requeued = job(pg_cli, queued["id"], SHORT_LEASE)  # opening the store recovers it
    assert requeued["status"] == "pending" and "stopped (lease expired); re-queued" in requeued["output"]
    finish(background(pg_cli, "worker", "--processes", "1", "--once", "--zone", "east", env=SHORT_LEASE))
    finished = job(pg_cli, queued["id"])
    assert finished["status"] == "completed" and finished["attempts"] == 2
    assert [s["status"] for s in pg_cli.ok("scans", "list", "--json").json()] == ["completed"]


async def test_migrate_copies_a_store_filled_by_real_scans_and_can_run_again(cli, fleet, known_hosts, pg_url,
                                                                             pg_server, data_dir):
    from core.workspace import Workspace

    add_fleet_host(cli, fleet, "u2204", extra=("--tag", "web"))
    add_fleet_host(cli, fleet, "u2004")
    cli.ok("hosts", "edit", "u2004", "--zone", "west")
    scanned = cli.ok("scan", "u2204", "u2004", "--profile", L1, "--json").json()
    assert {s["status"] for s in scanned} == {"completed"}
    cli.ok("schedules", "add", "--tag", "web", "--profile", L1, "--daily", "03:00", "--tz", "UTC",
           "--notify", "ops", "--heartbeat")
    asked = cli.ok("exceptions", "add", "--host", "u2204", "--rule", "sshd_disable_root_login", "--reason",
                   "break-glass access", "--expires", "2099-12-31", "--json").json()
    cli.ok("exceptions", "approve", asked["id"], "--note", "reviewed", env={"LOGNAME": "reviewer"})
    (queued,) = cli.ok("scan", "u2204", "--profile", L1, "--enqueue", "--json").json()  # a job still waiting
    async with await Workspace.open(data_dir) as workspace:  # what only the AI makes: an explanation, usage
        scan = await workspace.store.get_scan(scanned[0]["id"])
        await workspace.store.save_explanation(Explanation(scan.content_id, "rule_x", "fail", "m1", "## Why\n", None, 9, 3))
        await workspace.store.record_ai_usage("2025-03-01", "m1", 120, 40)
    env = pg_server.env()
    first = cli("store", "migrate", "--to", pg_url, "--json", env=env)
    assert first.returncode == 0, first.stderr
    tables = first.json()["tables"]
    assert tables["rule_results"]["rows"] > 300 and tables["rule_results"]["added"] == tables["rule_results"]["rows"]
    again = cli("store", "migrate", "--to", pg_url, "--json", env=env)  # re-run: nothing new, no duplicates
    assert again.returncode == 0, again.stderr
    assert {t: v["added"] for t, v in again.json()["tables"].items()} == {t: 0 for t in tables}
    assert {t: v["rows"] for t, v in again.json()["tables"].items()} == {t: v["rows"] for t, v in tables.items()}

    on_pg = {ENV_STORE: pg_url} | env
    for command in (("hosts", "list", "--json"), ("scans", "list", "--json"), ("jobs", "list", "--json"),
                    ("schedules", "list", "--json"), ("exceptions", "list", "--json"), ("ai", "usage", "--json"),
                    ("results", scanned[0]["id"], "--json"), ("results", scanned[1]["id"], "--json"),
                    ("jobs", "show", queued["id"], "--json"), ("diff", scanned[0]["id"], "--json"),
                    ("audit", "log", "--json"), ("audit", "verify")):  # the action log, its chain intact
        before, after = cli(*command), cli(*command, env=on_pg)
        assert (before.returncode, before.stdout) == (after.returncode, after.stdout), command
    # the evidence references (not in any JSON): the same files, which the report reads
    from core.store.postgres import PostgresStore

    copied = await PostgresStore.open(pg_url)
    try:
        async with await Workspace.open(data_dir) as workspace:
            for done in scanned:
                original = (await workspace.store.get_scan(done["id"])).arf_path
                assert original and (await copied.get_scan(done["id"])).arf_path == original
    finally:
        await copied.close()
    cli.ok("report", scanned[0]["id"][:8], "-o", str(data_dir / "r.html"), env=on_pg)
    # the copied waiting job runs on the new store, and new rows get new ids
    cli.ok("worker", "--once", env=on_pg, timeout=300)
    assert job(cli, queued["id"], on_pg)["status"] == "completed"
    cli.ok("hosts", "add", "new1", "--address", "10.0.0.9", env=on_pg)
    refused = cli("store", "migrate", "--to", pg_url + "x", env=env)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "no such database" in refused.stderr


def test_a_worker_rides_out_a_postgres_restart_in_one_line_per_failure(pg_cli, pg_server):
    pg_cli.ok("hosts", "add", "gone", "--address", "127.0.0.1", "--port", "1", "--zone", "east")
    worker = background(pg_cli, "worker", "--processes", "1", "--zone", "east")
    try:
        time.sleep(3)  # it has claimed (nothing), listens and beats
        pg_server.restart()  # every connection of the worker is cut
        time.sleep(4)  # it notices while renewing and claiming
        (queued,) = pg_cli.ok("scan", "gone", "--profile", L1, "--enqueue", "--json").json()
        ran = wait_for(lambda: (found := job(pg_cli, queued["id"]))["status"] in ("failed", "completed") and found,
                       timeout=180)  # only a failing run waits so long
        assert ran["status"] == "failed" and ":" + str(worker.pid) + ":" in ran["worker"]
        assert "nothing listens on that port" in ran["error"]
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, said = worker.communicate(timeout=60)
    assert worker.returncode == 0, said
    assert "Traceback" not in said and "trying again" in said, said


async def test_zone_workers_and_a_tui_on_postgres_enqueue_a_due_slot_once(pg_cli, data_dir, pg_url):
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from core.domain.settings import Settings
    from core.domain.timeutil import to_iso
    from core.workspace import Workspace
    from tests.conftest import free_port
    from tests.tui.helpers import make_app

    for name, zone in (("gone1", "east"), ("gone2", "")):  # nothing listens there: each scan fails at once
        pg_cli.ok("hosts", "add", name, "--address", "127.0.0.1", "--port", str(free_port()), "--tag", "lab",
                  "--zone", zone)
    now = datetime.now(timezone.utc)
    added = pg_cli.ok("schedules", "add", "--tag", "lab", "--profile", L1, "--daily",
                      f"{now - timedelta(hours=1):%H:%M}", "--tz", "UTC", "--json").json()
    settings = Settings(store_url=pg_url)
    async with await Workspace.open(data_dir, settings=settings) as workspace:  # made 5 days ago
        schedule = await workspace.store.get_schedule(added["id"])
        await workspace.store.update_schedule(replace(schedule, not_before=to_iso(now - timedelta(days=5))))
    workers = [background(pg_cli, "worker", "--once", *zone) for zone in (("--zone", "east"), ())]
    app = make_app(data_dir, settings=settings, clock=lambda: datetime.now(timezone.utc))
    async with app.run_test() as pilot:
        await app.schedules.run_once()
        await pilot.pause()
        for worker in workers:
            finish(worker, timeout=120)
        await app.schedules.run_once()  # the slot is taken: nothing more
    async with await Workspace.open(data_dir, settings=settings) as workspace:
        runs = await workspace.store.schedule_runs(added["id"])
        jobs = [j for j in (await workspace.store.find_jobs())[0] if j.params.get("schedule") == added["id"]]
    assert len(runs) == 1 and runs[0]["jobs"] == 2
    assert sorted(j.host_name for j in jobs) == ["gone1", "gone2"]
    assert {j.params["slot"] for j in jobs} == {runs[0]["slot"]}
