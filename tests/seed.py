"""Put a completed scan built from real oscap results into a workspace's store.

The same steps as core.scanner (assign content, save rule texts, complete with the
parsed ARF), without a target: tests of reports, exports and screens reuse it.
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
from core.domain.models import Host, Scan, compute_score, notice_for
from core.domain.timeutil import parse_iso, seconds_between, to_iso
from core.results import xccdf
from core.workspace import Workspace, runner_id
from tests.oscap_results import CIS_L1_SERVER, datastream, make_probe_root

UBUNTU_2204 = {"os_id": "ubuntu", "os_version": "22.04", "os_name": "Ubuntu 22.04.4 LTS",
               "os_family": "debian"}


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
    scan = await store.create_scan(
        Scan(id=str(uuid.uuid4()), host_id=host.id, host_name=host.name, profile=profile,
             profile_id=None, created_at=created_at), runner_id())
    await store.mark_running(scan.id)
    if not await store.has_rules(datastream.sha256):
        rules = xccdf.read_rules(datastream.path)
        await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                 datastream.version, rules.values())
    profile_info = datastream.profiles[found.profile_id]
    await store.assign_content(scan.id, found.profile_id, datastream.sha256, profile_info.rule_count)
    results = xccdf.merge_duplicates(found.results)
    counts = xccdf.count_results(results)
    started, finished = _times(found, created_at)
    await store.complete_scan(scan.id, results, counts, compute_score(counts), notice_for(counts),
                              str(_evidence(workspace, scan.id, arf_path)), started, finished)
    return await store.get_scan(scan.id)


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
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(content_index, target)
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
