"""One scan job end to end: probe, resolve content, upload, oscap, fetch, store.

The runner (core/jobs/runner.py) calls run_scan_job (core/jobs/kinds.py) and ends the job from what it raises;
a completed scan stores its results and ends its job in one transaction. Every step goes to
the job's output log.
"""

from __future__ import annotations

import asyncio
import bz2
import hashlib
import inspect
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from core import evidence as evidence_files
from core import paths
from core.content import derive
from core.content.benchmark import selected_rules
from core.content.catalog import Datastream
from core.content.tailoring import Tailoring, original_name, read_tailoring
from core.domain import limits
from core.domain.errors import OperatorError, OscapCrashed, OscapFailed, OscapStalled, Unreachable
from core.domain.models import Host, ScanStatus, compute_score, notice_for
from core.domain.timeutil import now_iso
from core.files import private_dir, write_private
from core.jobs.context import JobContext
from core.results import xccdf
from core.safexml import XmlError
from core.signing import digests
from core.signing.record import Sealer
from core.targets import remote
from core.targets.connect import connect, sudo_for
from core.targets.transport import CommandResult, Sudo, Transport
from core.workspace import Workspace

log = logging.getLogger(__name__)


def compressed_datastream(workspace: Workspace, datastream: Datastream) -> tuple[bytes, str]:
    """The datastream bz2-compressed (about 25x smaller), cached by its sha256."""
    if datastream.path.suffix == ".bz2":
        data = datastream.path.read_bytes()
    else:
        cached = paths.cache_dir(workspace.data_dir) / "content" / f"{datastream.sha256}.xml.bz2"
        if not cached.exists():
            private_dir(cached.parent)
            write_private(cached, bz2.compress(datastream.path.read_bytes(), 9))
        data = cached.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"
_ORDERS: dict[tuple[str, str], list[str]] = {}  # (datastream sha256, profile) -> rule order


async def rule_order(workspace: Workspace, datastream: Datastream, profile_id: str) -> list[str]:
    """The rules the profile selects, in oscap's order: read once per content and profile."""
    key = (datastream.sha256, profile_id)
    async with workspace.first(f"order:{datastream.sha256}:{profile_id}"):
        if key not in _ORDERS:
            try:
                _ORDERS[key] = await asyncio.to_thread(selected_rules, datastream.path, profile_id)
            except XmlError:
                _ORDERS[key] = []
    return _ORDERS[key]


class RuleClock:
    """Which rule oscap evaluates now, and how long each took. oscap prints a rule's line when
    it is done with it; the rule after it in the profile's order is the one running, since then."""

    def __init__(self, order: list[str]):
        self.order, self.index = order, {rule: n for n, rule in enumerate(order)}
        self.seconds: dict[str, float] = {}
        self.done = 0
        self._since = time.monotonic()

    def start(self) -> None:
        """oscap starts (again): nothing done yet."""
        self.seconds, self.done, self._since = {}, 0, time.monotonic()

    def finished(self, rule_id: str) -> str | None:
        """Record a finished rule; returns the one that runs now (None past the last)."""
        now = time.monotonic()
        self.seconds[rule_id] = round(now - self._since, 3)
        self._since = now
        self.done += 1
        position = self.index.get(rule_id)
        if position is None or position + 1 >= len(self.order):
            return None
        return self.order[position + 1]

    def slowest(self, count: int) -> list[tuple[str, float]]:
        return sorted(self.seconds.items(), key=lambda item: -item[1])[:count]


class ScanProgress:
    """oscap's progress lines as the job's progress: rules done of total, and the rule running
    now, which is the one after the last reported in oscap's order (oscap names a rule once it
    is done with it). Never more done than total: a hostile oscap may print a million lines."""

    def __init__(self, ctx: JobContext, order: list[str], total: int | None):
        self.ctx, self.clock, self.total = ctx, RuleClock(order), total
        self.most = total or limits.current().rule_results

    async def begin(self) -> None:
        """oscap starts: nothing done yet, its first rule running."""
        self.clock.start()
        order = self.clock.order
        await self.ctx.progress(0, self.total, order[0] if order else None, now_iso())

    async def rule(self, rule_id: str, result: str) -> None:
        """One progress line of oscap (rule_id:result): that rule is done."""
        if self.clock.done < self.most:
            running = self.clock.finished(rule_id)
            await self.ctx.progress(self.clock.done, self.total, running, now_iso() if running else None)


@dataclass(frozen=True)
class Evidence:
    """A scan's ARF on disk, and the most it may hold (what parsing it is bounded by)."""

    path: Path
    limit: int
    sha256: str | None = None  # of the ARF oscap wrote, checked when it was kept; None: unknown


@dataclass(frozen=True)
class Content:
    """What one oscap run evaluates."""

    datastream: Datastream
    profile_id: str  # the benchmark's profile (a tailoring's profile extends it)
    rule_count: int | None
    label: str | None = None  # "derived from RHEL 9 content"


async def run_scan_job(ctx: JobContext) -> None:
    """Run the scan of a claimed scan job; raises OperatorError with the reason it failed."""
    workspace, job = ctx.workspace, ctx.job
    scan_id, profile = job.scan_id, job.profile
    if scan_id is None or profile is None:  # the store makes each scan job with its scan and profile
        raise OperatorError(f"job {job.short_id} is a scan job without its scan or profile: nothing to run")
    host = await workspace.store.require_host(job.host_name)
    timeout = int(job.params.get("timeout") or workspace.settings.scan_timeout)
    try:
        # every step has its own bound; this one catches what none of them covers
        async with asyncio.timeout(timeout + 2 * workspace.settings.transfer_timeout + 300):
            tailoring = _tailoring(job.params.get("tailoring") or host.tailoring_file)
            async with await _connect(ctx, host) as transport:
                found, work = await remote.probe_and_prepare(transport)  # one round trip
                try:
                    await _probed(ctx, host, found)
                    if isinstance(work, OscapFailed):
                        raise work
                    choice = await derive.resolve(workspace, found.os, profile)
                except BaseException:
                    if isinstance(work, remote.Workdir):
                        await remote.discard(transport, work)
                    raise
                content = Content(choice.datastream, choice.profile_id, choice.rule_count, choice.derived_label)
                evidence = await scan_on_host(ctx, transport, host, found, scan_id, content, tailoring,
                                              timeout, work)
    except Unreachable:
        host.status = "offline"
        await workspace.store.update_host(host)
        raise
    except TimeoutError:
        raise OperatorError(f"{host.name}: the scan did not finish in time and was abandoned") from None
    await store_results(ctx, scan_id, evidence, content.datastream)


def _tailoring(kept: str | None) -> Tailoring | None:
    if not kept:
        return None
    return read_tailoring(Path(kept), original_name(Path(kept)))


async def _connect(ctx: JobContext, host: Host) -> Transport:
    where = "this machine" if host.transport == "local" else host.endpoint
    ctx.say(f"connecting to {host.name} ({where})")
    return await connect(host)


async def probe_host(ctx: JobContext, transport: Transport, host: Host) -> remote.Probe:
    """Who we are there, oscap, the OS (remembered on the host); refuses a host without oscap."""
    found = await remote.probe(transport)
    await _probed(ctx, host, found)
    return found


async def _probed(ctx: JobContext, host: Host, found: remote.Probe) -> None:
    ctx.say(f"uid {found.uid}, oscap {found.oscap_version or 'missing'}, "
            f"OS {found.os.pretty_name if found.os else 'unknown'}")
    await _remember_host(ctx.workspace, host, found)
    remote.require_oscap(host.name, found)


async def scan_on_host(
    ctx: JobContext, transport: Transport, host: Host, found: remote.Probe, scan_id: str,
    content: Content, tailoring: Tailoring | None, timeout: int, work: remote.Workdir | None = None,
) -> Evidence:
    """One oscap run through an open connection (in work, else a work dir of its own);
    returns the local evidence file."""
    workspace, store = ctx.workspace, ctx.workspace.store
    datastream = content.datastream
    work = work or await remote.prepare(transport)
    try:
        await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                 datastream.version, derived_from=datastream.derived_from)
        order = await rule_order(workspace, datastream, content.profile_id)
        # the profile's rule count: from the catalog, else (a hardening job's re-scan) its order
        profile_id, total, tailored = content.profile_id, content.rule_count or len(order) or None, None
        if tailoring:  # the tailoring's own selections change the rule count: unknown up front
            profile_id, total = tailoring.profile_for(content.profile_id), None
            tailored = (tailoring.name, tailoring.sha256, content.profile_id)
            ctx.say(f"tailoring {tailoring.name}: profile {profile_id}")
        ctx.say(f"content {datastream.path.name} (SSG {datastream.version}"
                f"{', ' + content.label if content.label else ''}), {profile_id}"
                f"{f', {total} rules' if total else ''}")
        sudo = sudo_for(host, found)
        await store.assign_content(scan_id, profile_id, datastream.sha256, total, tailored)
        async with workspace.first(f"bz2:{datastream.sha256}"):  # compressed once, then read from the cache
            data, digest = await asyncio.to_thread(compressed_datastream, workspace, datastream)
        remote_ds = f"{work.cache}/{digest}.xml.bz2"
        remote_tailoring = None
        if tailoring:
            remote_tailoring = f"{work.tmp}/tailoring.xml"
            await remote.upload(transport, tailoring.path.read_bytes(), remote_tailoring, timeout=120)
        arf = f"{work.tmp}/arf.xml"
        stall = workspace.settings.stall_timeout
        ctx.begin_scan(scan_id, total)
        progress = ScanProgress(ctx, order, total)
        clock = progress.clock

        async def run_oscap(cached: str | None) -> CommandResult:
            ctx.say(f"running oscap xccdf eval (timeout {timeout} s)")
            await progress.begin()
            return await remote.evaluate(transport, sudo, profile_id, remote_ds, arf, timeout, progress.rule,
                                         remote_tailoring, work.tmp, cached=cached, stall_s=stall)

        async def oscap(cached: str | None) -> CommandResult:
            # oscap's own faults get one more run: oscap 1.3's probes fail now and then under load,
            # crashing (its libapt package probe; upstream rewrote it in 1.3.10) or deadlocking
            try:
                return await run_oscap(cached)
            except (OscapCrashed, OscapStalled) as first:
                if not first.fault:  # killed by someone: not run again
                    raise
                ctx.say(f"{first}: running it once more")
            try:
                return await run_oscap(cached)
            except OscapCrashed as again:
                raise remote.crashed(again.host, again.how, again.reason, again.fault, twice=True) from None
            except OscapStalled as again:
                raise remote.stalled(again.host, again.seconds, twice=True) from None

        evaluated = await oscap(digest)  # the datastream checked in the same round trip
        if evaluated.exit_status == remote.NOT_CACHED:
            ctx.say(f"the datastream is not on the target yet: uploading it ({len(data) // 1024:,} KiB bz2)")
            await remote.upload(transport, data, remote_ds, timeout=workspace.settings.transfer_timeout)
            evaluated = await oscap(None)
        ctx.say(f"oscap finished (exit {evaluated.exit_status}) after {clock.done} rules")
        for slow, seconds in clock.slowest(3):
            ctx.say(f"    slowest: {slow.removeprefix(RULE_PREFIX)} {seconds:.1f} s")
        ctx.timings = clock.seconds
        limit = limits.current().arf_bytes(total, _plain_size(datastream.path))
        evidence = await fetch_evidence_once(ctx, transport, sudo, arf, work.tmp, scan_id, limit, datastream.sha256)
    finally:
        await remote.discard(transport, work)
    return evidence


KNOWN_BLOCKS = 64  # the newest blocks kept here that a target need not send again


async def fetch_evidence_once(ctx: JobContext, transport: Transport, sudo: Sudo, arf: str, tmp: str,
                              scan_id: str, limit: int, content: str) -> Evidence:
    """fetch_evidence, where the first scan of a content in this process brings its datastream
    block alone: a fleet's first scans all end at once, and each brought the same block (11 MB,
    compressed on every target and checked here) before one was kept."""
    workspace, key = ctx.workspace, f"block:{content}"
    if key not in workspace.firsts_done:
        async with workspace.first(key):
            if key not in workspace.firsts_done:
                evidence = await fetch_evidence(ctx, transport, sudo, arf, tmp, scan_id, limit)
                workspace.firsts_done.add(key)
                return evidence
    return await fetch_evidence(ctx, transport, sudo, arf, tmp, scan_id, limit)


async def fetch_evidence(ctx: JobContext, transport: Transport, sudo: Sudo, arf: str, tmp: str, scan_id: str,
                         limit: int) -> Evidence:
    """The ARF, moving only what is new: its embedded datastream block once per datastream."""
    directory = paths.evidence_dir(ctx.workspace.data_dir)
    known = evidence_files.known_blocks(directory)[:KNOWN_BLOCKS]
    timeout = ctx.workspace.settings.transfer_timeout
    fetched = await remote.fetch_evidence(transport, sudo, arf, tmp, known, limit, timeout=timeout)
    if fetched.shape == "split" and fetched.block_data is None and fetched.block is not None \
            and not evidence_files.block_path(directory, fetched.block).is_file():
        fetched = await remote.fetch_evidence(transport, sudo, arf, tmp, [], limit, timeout=timeout)  # pruned since
    try:
        path = await asyncio.to_thread(_keep_evidence, directory, scan_id, fetched)
    except evidence_files.EvidenceError as exc:
        raise OscapFailed(f"{transport.host_name}: {exc}") from None
    moved = len(fetched.data) + len(fetched.block_data or b"")
    how = {"whole": "the whole ARF, gzip", "split": "its datastream block " +
           ("sent once for this datastream" if fetched.block_data else "known here already")}[fetched.shape]
    ctx.say(f"fetched the results: {moved // 1024:,} KiB ({how}); sha256 checked")
    return Evidence(path, limit, fetched.sha256 if evidence_files.SHA256.match(fetched.sha256) else None)


def _keep_evidence(directory: Path, scan_id: str, fetched: remote.Fetched) -> Path:
    private_dir(directory)
    if fetched.shape == "whole":
        return evidence_files.write_whole(directory / f"{scan_id}.arf.xml.gz", fetched.sha256, fetched.size,
                                          fetched.data)
    if fetched.block is None:  # remote._fetched names the block of every split ARF
        raise evidence_files.EvidenceError("the target sent a split ARF without naming its datastream block")
    if fetched.block_data is not None:
        evidence_files.keep_block(directory, fetched.block, fetched.block_data)
    header = evidence_files.SplitHeader(fetched.sha256, fetched.block, fetched.head_lines, fetched.size)
    return evidence_files.write_split(directory / f"{scan_id}.arf.split", header, fetched.data)


def _plain_size(path: Path) -> int:
    """The datastream's uncompressed size (an ARF embeds it); bz2 ones expand about 25x: allow 40."""
    size = path.stat().st_size
    return size * 40 if path.suffix == ".bz2" else size


async def _remember_host(workspace: Workspace, host: Host, found: remote.Probe) -> None:
    host.status = "online"
    if found.os:
        host.os_id, host.os_version = found.os.id, found.os.version
        host.os_name, host.os_family = found.os.pretty_name, found.os.family
    await workspace.store.update_host(host)


async def store_results(ctx: JobContext, scan_id: str, evidence: Evidence, datastream: Datastream,
                        job_result: Callable[[dict[str, str]], Any] | None = None) -> None:
    """Parse and keep the results; the scan and its job end completed at once. job_result
    turns the rule results (rule id -> result) into what the job records it found (a dict,
    or an awaitable of one: what must happen before the job ends). A scan that fails here
    leaves no evidence behind."""
    try:
        await _store_results(ctx, scan_id, evidence, datastream, job_result)
    except BaseException:
        evidence.path.unlink(missing_ok=True)
        raise


async def _store_results(ctx: JobContext, scan_id: str, evidence: Evidence, datastream: Datastream,
                         job_result: Callable[[dict[str, str]], Any] | None) -> None:
    store, job = ctx.workspace.store, ctx.job
    results = await asyncio.to_thread(_read_results, job.host_name, evidence.path, evidence.limit)
    if len(results) != 1:
        raise OperatorError(f"the results hold {len(results)} TestResults, expected one")
    rule_results = [replace(r, seconds=ctx.timings.get(r.rule_id)) for r in xccdf.merge_duplicates(results[0].results)]
    async with ctx.workspace.first(f"rules:{datastream.sha256}"):  # a fleet's first scans read them once
        if not await store.has_rules(datastream.sha256):
            rules = await asyncio.to_thread(xccdf.read_rules, datastream.path)
            await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                     datastream.version, rules.values(), datastream.derived_from)
        elif not await store.references_read(datastream.sha256):  # content stored before references were kept
            rules = await asyncio.to_thread(xccdf.read_rules, datastream.path)
            await store.save_references(datastream.sha256, rules.values())
    counts = xccdf.count_results(rule_results)
    score = compute_score(counts)
    evaluated = sum(n for value, n in counts.items() if value != "notselected")
    ctx.say(f"stored {evaluated} rule results: {counts.get('pass', 0)} pass, "
            f"{counts.get('fail', 0)} fail, score {'-' if score is None else f'{score:.1f}'}")
    if job_result is not None:
        found = job_result({r.rule_id: r.result for r in rule_results})
        await store.set_job_result(job.id, await found if inspect.isawaitable(found) else found)
    finished = now_iso()
    scan = await store.get_scan(scan_id)
    stored = replace(scan, status=ScanStatus.COMPLETED, counts=counts, score=score, notice=notice_for(counts),
                     arf_path=str(evidence.path), started_at=scan.started_at or finished, finished_at=finished)
    evidence_sha256 = evidence.sha256 or await asyncio.to_thread(digests.plain_sha256, evidence.path)
    seal = (await Sealer.open(ctx.workspace)).seal(stored, rule_results, evidence_sha256,
                                                   lambda why: ctx.say(f"warning: {why}"))
    await store.complete_scan(scan_id, rule_results, counts, score, stored.notice, str(evidence.path),
                              stored.started_at, finished, job_id=job.id, output=ctx.output, seal=seal)


def _read_results(host_name: str, arf_path: Path, limit: int) -> list[xccdf.TestResultData]:
    try:
        with evidence_files.open_results(arf_path) as stream:
            return xccdf.read_test_results(stream, limit=limit)
    except XmlError as exc:
        raise OperatorError(f"{host_name}: the results oscap wrote cannot be read: {exc}") from None
