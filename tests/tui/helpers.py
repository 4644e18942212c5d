"""Helpers of the TUI tests: the app with a fixed clock, a store seeded from real oscap results.

Seeding uses the store's own API the way core.scanner stores a scan, with fixed scan ids
and times so that screenshots come out the same on every run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.domain.models import Host, Scan, ScanStatus, compute_score, notice_for
from core.domain.timeutil import to_iso
from core.results import xccdf
from core.workspace import Workspace
from tests.seed import seed_job
from tui.app import ComplianceApp

NOW = datetime(2025, 3, 31, 12, 0, tzinfo=timezone.utc)
CIS_L2_SERVER = "xccdf_org.ssgproject.content_profile_cis_level2_server"
UBUNTU_2204 = {"os_id": "ubuntu", "os_version": "22.04", "os_name": "Ubuntu 22.04.4 LTS",
               "os_family": "debian"}
UBUNTU_2004 = {"os_id": "ubuntu", "os_version": "20.04", "os_name": "Ubuntu 20.04.6 LTS",
               "os_family": "debian"}


def fixed_clock() -> datetime:
    return NOW


def ago(days: float, hours: float = 0) -> str:
    return to_iso(NOW - timedelta(days=days, hours=hours))


@dataclass(frozen=True)
class Results:
    """One real oscap run, parsed once per session."""

    arf: Path
    found: xccdf.TestResultData


def read_results(directory: Path) -> Results:
    """The results of a real oscap run that tests.oscap_results.produce_results made there."""
    arf = directory / "arf.xml"
    (found,) = xccdf.read_test_results(arf)
    return Results(arf, found)


def make_app(data_dir: Path, **kwargs) -> ComplianceApp:
    options = {"clock": fixed_clock, "cursor_blink": False} | kwargs
    return ComplianceApp(data_dir, **options)


async def add_host(workspace: Workspace, name: str, address: str = "10.0.0.1", **fields) -> Host:
    return await workspace.store.add_host(Host(name=name, address=address, **fields))


async def seed_scan(
    workspace: Workspace, host: str, results: Results, *, scan_id: str, created_at: str,
    profile: str = "cis-level1-server", duration_s: int = 42, timed: bool = False,
) -> Scan:
    """A completed scan of host with these real results, at a fixed id and time; timed: each
    rule took n/10 s, n its place in the results modulo 30 (seeded results carry no times)."""
    store = workspace.store
    found = results.found
    datastream = next(d for d in await workspace.datastreams()
                      if d.benchmark_id == found.benchmark_id and d.version == found.benchmark_version)
    target = await store.require_host(host)
    job = await seed_job(store, target, scan_id=scan_id, created_at=created_at, profile=profile)
    if not await store.has_rules(datastream.sha256):
        rules = await asyncio.to_thread(xccdf.read_rules, datastream.path)
        await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                 datastream.version, rules.values())
    await store.assign_content(scan_id, found.profile_id, datastream.sha256,
                               datastream.profiles[found.profile_id].rule_count)
    rule_results = xccdf.merge_duplicates(found.results)
    if timed:
        rule_results = [replace(r, seconds=n % 30 / 10) for n, r in enumerate(rule_results)]
    counts = xccdf.count_results(rule_results)
    start = datetime.fromisoformat(created_at.replace("Z", "+00:00")) + timedelta(seconds=2)
    await store.complete_scan(scan_id, rule_results, counts, compute_score(counts), notice_for(counts),
                              None, to_iso(start), to_iso(start + timedelta(seconds=duration_s)), job_id=job.id)
    return await store.get_scan(scan_id)


async def seed_failed_scan(workspace: Workspace, host: str, *, scan_id: str, created_at: str,
                           message: str) -> Scan:
    target = await workspace.store.require_host(host)
    job = await seed_job(workspace.store, target, scan_id=scan_id, created_at=created_at, start=False)
    finished = to_iso(datetime.fromisoformat(created_at.replace("Z", "+00:00")) + timedelta(seconds=3))
    await workspace.store.finish_job(job.id, "failed", message, finished_at=finished)
    scan = await workspace.store.get_scan(scan_id)
    assert scan.status is ScanStatus.FAILED
    return scan


SCAN_IDS = {
    "web-1": "3f9a1c2e-5b7d-4e21-9a0b-1c2d3e4f5a6b",
    "web-2": "7c2e9d41-0a3b-4f5c-8d6e-2b1a0c9d8e7f",
    "web-3": "a51b7e03-9c2d-4b1e-8f3a-6d5c4b3a2f10",
    "web-fail": "d0e1f2a3-b4c5-4d6e-9f70-8192a3b4c5d6",
    "db-1": "5e6f7081-92a3-4b4c-8d5e-6f708192a3b4",
}


async def seed_fleet(data_dir: Path, l1: Results, l2: Results) -> None:
    """Three hosts and five scans over the last month: what the screenshots show."""
    async with await Workspace.open(data_dir) as workspace:
        await add_host(workspace, "web01", "10.0.0.11", username="scanner", status="online", **UBUNTU_2204)
        await add_host(workspace, "db01", "db01.example.com", port=2222, username="ops",
                       status="offline", **UBUNTU_2204)
        await add_host(workspace, "legacy", "192.168.7.40", username="root")
        await seed_scan(workspace, "web01", l1, scan_id=SCAN_IDS["web-1"], created_at=ago(24, 3))
        await seed_scan(workspace, "web01", l2, scan_id=SCAN_IDS["web-2"], created_at=ago(12, 5),
                        profile="cis-level2-server", duration_s=61)
        await seed_scan(workspace, "web01", l1, scan_id=SCAN_IDS["web-3"], created_at=ago(2, 1))
        await seed_failed_scan(workspace, "web01", scan_id=SCAN_IDS["web-fail"], created_at=ago(1),
                               message="web01 (10.0.0.11:22) is unreachable: connection refused")
        await seed_scan(workspace, "db01", l1, scan_id=SCAN_IDS["db-1"], created_at=ago(6, 2),
                        duration_s=38)


async def wait_for(pilot, predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Pause the app until predicate() is true (workers finish, messages land); the timeout only
    bounds a failing test, so it is generous for a machine running the suite on every core."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def settle(pilot) -> None:
    """Let every worker of the app finish, then let their messages land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


RULE = "xccdf_org.ssgproject.content_rule_"
# A six-host Bulk Scan with errors: host -> (status, rules done, error); a wide terminal shows
# the long names, a narrow one cuts them, and the errors, to their line.
BULK_SCAN = {
    "web-frontend-01.eu-west-1.prod.example.com": ("completed", 189, None),
    "db-primary-01.eu-west-1.prod.example.com": ("failed", 0,
        "db-primary-01.eu-west-1.prod.example.com (10.20.30.41:22) is unreachable: nothing listens "
        "on that port: check the port, and that sshd runs"),
    "legacy-billing-03.dc2.example.com": ("failed", 0,
        "legacy-billing-03.dc2.example.com: sudo needs a password; allow NOPASSWD for oscap in sudoers, "
        "or name an environment variable holding it (hosts add --sudo-password-env VAR)"),
    "cache-02.eu-west-1.prod.example.com": ("failed", 75,
        "cache-02.eu-west-1.prod.example.com: oscap did not finish within 600 s and was stopped; "
        "raise the scan timeout or check the host for a hung probe"),
    "batch-worker-07.us-east-1.prod.example.com": ("running", 120, None),
    "bastion.example.com": ("pending", 0, None),
}


async def seed_bulk_scan(data_dir: Path) -> None:
    """The hosts and jobs of BULK_SCAN, at fixed ids and times (the running one without a
    start time for its rule: no clock on screen)."""
    async with await Workspace.open(data_dir) as workspace:
        store = workspace.store
        for n, (name, (status, done, error)) in enumerate(BULK_SCAN.items()):
            host = await add_host(workspace, name, f"10.20.30.{40 + n}", username="scanner", **UBUNTU_2204)
            job = await seed_job(store, host, scan_id=f"b01c5ca{n}-0000-4000-8000-00000000000{n}",
                                 created_at=ago(0, 1), start=status != "pending")
            if done:
                await store.record_progress(job.id, done, 189, f"{RULE}file_permissions_unauthorized_world_writable",
                                            None, "")
            if status in ("completed", "failed"):
                await store.finish_job(job.id, status, error, finished_at=ago(0, 0.5))

