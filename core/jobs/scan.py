"""One scan end to end, and several at once: probe, upload, oscap, fetch, store.

A fault marks only its own scan failed, with the one-line reason; nothing
stays running: every path out of run_scan ends in completed or failed.
"""

from __future__ import annotations

import asyncio
import bz2
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core import paths
from core.content import derive
from core.content.catalog import ContentError, Datastream, is_valid_profile_name
from core.content.tailoring import Tailoring, original_name, read_tailoring
from core.domain.errors import InvalidInput, OperatorError, Unreachable
from core.domain.models import Host, Scan, compute_score, notice_for
from core.results import xccdf
from core.targets import remote
from core.targets.connect import connect, sudo_for
from core.targets.transport import Transport
from core.workspace import Workspace, runner_id

log = logging.getLogger(__name__)
ProgressCallback = Callable[[str, int, int | None], None]
PROGRESS_INTERVAL = 1.0  # seconds between progress writes to the store


def compressed_datastream(workspace: Workspace, datastream: Datastream) -> tuple[bytes, str]:
    """The datastream bz2-compressed (about 25x smaller), cached by its sha256."""
    if datastream.path.suffix == ".bz2":
        data = datastream.path.read_bytes()
    else:
        cached = paths.cache_dir(workspace.data_dir) / "content" / f"{datastream.sha256}.xml.bz2"
        if not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(".part")
            partial.write_bytes(bz2.compress(datastream.path.read_bytes(), 9))
            partial.replace(cached)
        data = cached.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


@dataclass
class Progress:
    """Counts oscap's progress lines; writes to the store at most once a second."""

    workspace: Workspace
    scan_id: str
    total: int | None
    callback: ProgressCallback | None
    done: int = 0
    _written: float = 0.0

    async def rule(self, rule_id: str, result: str) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self._written >= PROGRESS_INTERVAL:
            self._written = now
            await self.workspace.store.set_progress(self.scan_id, self.done)
        if self.callback:
            self.callback(self.scan_id, self.done, self.total)


def validate_profile(profile: str) -> None:
    if not is_valid_profile_name(profile):
        raise InvalidInput(
            f"invalid profile {profile!r}: use cis-level1-server, cis-level2-server or a full xccdf profile id"
        )


async def create_scan(workspace: Workspace, host: Host, profile: str) -> Scan:
    validate_profile(profile)
    scan = Scan(id=str(uuid.uuid4()), host_id=host.id, host_name=host.name, profile=profile, profile_id=None)
    return await workspace.store.create_scan(scan, runner_id())


async def run_scan(
    workspace: Workspace, scan: Scan, host: Host, on_progress: ProgressCallback | None = None,
    tailoring: Tailoring | None = None,
) -> Scan:
    """Run one created scan to its end. tailoring overrides the host's own tailoring file."""
    store = workspace.store
    await store.mark_running(scan.id)
    try:
        async with asyncio.timeout(workspace.scan_timeout + 300):
            tailoring = tailoring or _host_tailoring(host)
            arf_path, datastream = await _scan_on_host(workspace, scan, host, on_progress, tailoring)
        await _store_results(workspace, scan, arf_path, datastream)
    except (OperatorError, ContentError) as exc:
        await store.fail_scan(scan.id, str(exc))
        if isinstance(exc, Unreachable):
            host.status = "offline"
            await store.update_host(host)
    except TimeoutError:
        await store.fail_scan(scan.id, f"{host.name}: the scan did not finish in time and was abandoned")
    except asyncio.CancelledError:
        await asyncio.shield(store.fail_scan(scan.id, "cancelled before it finished; scan again"))
        raise
    except Exception as exc:  # a bug must not leave the scan running
        log.exception("scan %s failed", scan.id)
        await store.fail_scan(scan.id, f"internal error: {type(exc).__name__}: {exc}")
    return await store.get_scan(scan.id)


def _host_tailoring(host: Host) -> Tailoring | None:
    if not host.tailoring_file:
        return None
    kept = Path(host.tailoring_file)
    return read_tailoring(kept, original_name(kept))


async def _scan_on_host(
    workspace: Workspace, scan: Scan, host: Host, on_progress, tailoring: Tailoring | None,
) -> tuple[Path, Datastream]:
    """Everything that talks to the target; returns the local evidence file and the content used."""
    store = workspace.store
    async with await connect(host) as transport:
        found = await remote.probe(transport)
        await _remember_host(workspace, host, found)
        remote.require_oscap(host.name, found)
        choice = await derive.resolve(workspace, found.os, scan.profile)
        datastream = choice.datastream
        await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                 datastream.version, derived_from=datastream.derived_from)
        profile_id, total, tailored = choice.profile_id, choice.rule_count, None
        if tailoring:  # the tailoring's own selections change the rule count: unknown up front
            profile_id, total = tailoring.profile_for(choice.profile_id), None
            tailored = (tailoring.name, tailoring.sha256, choice.profile_id)
        await store.assign_content(scan.id, profile_id, datastream.sha256, total, tailored)
        sudo = sudo_for(host, found)
        data, digest = await asyncio.to_thread(compressed_datastream, workspace, datastream)
        work = await remote.prepare(transport)
        try:
            remote_ds = f"{work.cache}/{digest}.xml.bz2"
            if not await remote.is_cached(transport, remote_ds, digest):
                await remote.upload(transport, data, remote_ds, timeout=600)
            remote_tailoring = None
            if tailoring:
                remote_tailoring = f"{work.tmp}/tailoring.xml"
                await remote.upload(transport, tailoring.path.read_bytes(), remote_tailoring, timeout=120)
            progress = Progress(workspace, scan.id, total, on_progress)
            arf = f"{work.tmp}/arf.xml"
            await remote.evaluate(transport, sudo, profile_id, remote_ds, arf,
                                  workspace.scan_timeout, progress.rule, remote_tailoring)
            arf_gz = await remote.fetch_compressed(transport, sudo, arf, timeout=600)
        finally:
            await _cleanup(transport, work.tmp)
    evidence = paths.evidence_dir(workspace.data_dir) / f"{scan.id}.arf.xml.gz"
    evidence.parent.mkdir(parents=True, exist_ok=True)
    evidence.write_bytes(arf_gz)
    return evidence, datastream


async def _cleanup(transport: Transport, tmp: str) -> None:
    try:
        await asyncio.shield(remote.remove(transport, tmp))
    except (OperatorError, OSError) as exc:  # the connection may be gone; the next scan sweeps it
        log.warning("could not remove %s: %s", tmp, exc)


async def _remember_host(workspace: Workspace, host: Host, found: remote.Probe) -> None:
    host.status = "online"
    if found.os:
        host.os_id, host.os_version = found.os.id, found.os.version
        host.os_name, host.os_family = found.os.pretty_name, found.os.family
    await workspace.store.update_host(host)


async def _store_results(workspace: Workspace, scan: Scan, arf_path: Path, datastream: Datastream) -> None:
    results = await asyncio.to_thread(xccdf.read_test_results, arf_path)
    if len(results) != 1:
        raise OperatorError(f"the results hold {len(results)} TestResults, expected one")
    found = results[0]
    rule_results = xccdf.merge_duplicates(found.results)
    if not await workspace.store.has_rules(datastream.sha256):
        rules = await asyncio.to_thread(xccdf.read_rules, datastream.path)
        await workspace.store.save_content(
            datastream.sha256, datastream.path.name, datastream.benchmark_id,
            datastream.version, rules.values(), datastream.derived_from,
        )
    counts = xccdf.count_results(rule_results)
    await workspace.store.complete_scan(
        scan.id, rule_results, counts, compute_score(counts), notice_for(counts), str(arf_path),
    )


async def scan_hosts(
    workspace: Workspace, hosts: list[Host], profile: str,
    on_progress: ProgressCallback | None = None, on_created: Callable[[Scan], None] | None = None,
    tailoring: Tailoring | None = None,
) -> list[Scan]:
    """Create one scan per host, then run them with at most max_concurrent at once."""
    validate_profile(profile)
    scans = []
    for host in hosts:
        scan = await create_scan(workspace, host, profile)
        scans.append(scan)
        if on_created:
            on_created(scan)
    limit = asyncio.Semaphore(workspace.max_concurrent)

    async def one(scan: Scan, host: Host) -> Scan:
        async with limit:
            return await run_scan(workspace, scan, host, on_progress, tailoring)

    return list(await asyncio.gather(*(one(s, h) for s, h in zip(scans, hosts))))
