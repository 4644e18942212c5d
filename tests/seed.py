"""Put scans built from real oscap results into a workspace's store.

The same steps as a scan job (create the job, claim it, assign content, save rule texts,
complete with the parsed ARF), without a target: tests of reports, exports and screens
reuse them.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

from core import paths
from core.domain.models import Host, Job, Scan, compute_score, notice_for
from core.domain.timeutil import parse_iso, seconds_between, to_iso
from core.results import xccdf
from core.store.base import NewScanJob, Store
from core.workspace import Workspace
from tests.oscap_results import CIS_L1_SERVER, datastream, make_probe_root

UBUNTU_2204 = {"os_id": "ubuntu", "os_version": "22.04", "os_name": "Ubuntu 22.04.4 LTS",
               "os_family": "debian"}


SEEDER = "tests:seed"  # the lease owner of seeded jobs
FAR = "2999-01-01T00:00:00.000000Z"  # a lease that never runs out


async def seed_job(store: Store, host: Host, *, scan_id: str | None = None, created_at: str | None = None,
                   profile: str = "cis-level1-server", start: bool = True) -> Job:
    """A scan job with its scan: running (claimed by the seeder) or, start=False, pending."""
    job_id = str(uuid.uuid5(uuid.NAMESPACE_URL, scan_id)) if scan_id else None  # fixed with the scan's
    wanted = [NewScanJob(host, profile, {}, 5, scan_id, created_at, job_id)]
    if not start:
        (job,) = await store.create_scan_jobs(wanted)
        return job
    (job,) = await store.create_scan_jobs(wanted, SEEDER, FAR)
    claimed = await store.claim_job(SEEDER, FAR, take_pending=False)
    assert claimed.id == job.id
    return claimed


async def seed_failed_scan(store: Store, host: Host, message: str, **kwargs) -> Scan:
    job = await seed_job(store, host, **kwargs)
    await store.finish_job(job.id, "failed", message)
    return await store.get_scan(job.scan_id)


async def seed_host(workspace: Workspace, name: str) -> Host:
    """The host by that name, added (as an Ubuntu 22.04 on loopback) when missing."""
    host = await workspace.store.get_host(name)
    if host is None:
        host = await workspace.store.add_host(Host(name=name, address="127.0.0.1", **UBUNTU_2204))
    return host


async def seed_completed_scan(
    workspace: Workspace, host_name: str, arf_path: Path, *, created_at: str | None = None,
    profile: str = "cis-level1-server",
) -> Scan:
    """A completed scan of host_name holding the results of the ARF at arf_path."""
    store = workspace.store
    host = await seed_host(workspace, host_name)
    (found,) = xccdf.read_test_results(arf_path)
    datastream = next(d for d in await workspace.datastreams()
                      if d.benchmark_id == found.benchmark_id and d.version == found.benchmark_version)
    job = await seed_job(store, host, created_at=created_at, profile=profile)
    if not await store.has_rules(datastream.sha256):
        rules = xccdf.read_rules(datastream.path)
        await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                 datastream.version, rules.values())
    profile_info = datastream.profiles[found.profile_id]
    await store.assign_content(job.scan_id, found.profile_id, datastream.sha256, profile_info.rule_count)
    results = xccdf.merge_duplicates(found.results)
    counts = xccdf.count_results(results)
    started, finished = _times(found, created_at)
    await store.complete_scan(job.scan_id, results, counts, compute_score(counts), notice_for(counts),
                              str(_evidence(workspace, job.scan_id, arf_path)), started, finished, job_id=job.id)
    return await store.get_scan(job.scan_id)


def _times(found: xccdf.TestResultData, created_at: str | None) -> tuple[str | None, str | None]:
    """A back-dated scan runs as long as the real one did, starting when it was created."""
    if created_at is None:
        return None, None
    took = seconds_between(found.start_time, found.end_time) if found.start_time and found.end_time else 5
    start = parse_iso(created_at) + timedelta(seconds=1)
    return to_iso(start), to_iso(start + timedelta(seconds=max(took, 1)))


def _evidence(workspace: Workspace, scan_id: str, arf_path: Path) -> Path:
    """The ARF kept gzip-compressed, where the scanner keeps it."""
    evidence = paths.evidence_dir(workspace.data_dir) / f"{scan_id}.arf.xml.gz"
    evidence.parent.mkdir(parents=True, exist_ok=True)
    with open(arf_path, "rb") as src, gzip.open(evidence, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return evidence


def data_dir_with_index(directory: Path, content_index: Path) -> Path:
    """A data dir that starts with the session's content index (no cold discovery)."""
    target = paths.cache_dir(directory) / "content-index.json"
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)  # private, as the app makes it (no notice that it fixed the modes)
    shutil.copy(content_index, target)
    target.chmod(0o600)
    return directory


def mismatched_arf(workdir: Path) -> Path:
    """Real results of Ubuntu 20.04 content on a played Ubuntu 22.04: all notapplicable."""
    root = make_probe_root(workdir / "root", "ubuntu2204")
    arf = workdir / "mismatch-arf.xml"
    subprocess.run(
        ["oscap", "xccdf", "eval", "--profile", CIS_L1_SERVER, "--results-arf", str(arf),
         str(datastream("ubuntu2004"))],
        env={**os.environ, "OSCAP_PROBE_ROOT": str(root)}, capture_output=True, timeout=600, check=True,
    )
    return arf
