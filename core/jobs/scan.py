"""One scan job end to end: probe, resolve content, upload, oscap, fetch, store.

The runner (core/jobs/runner.py) calls run_scan_job and ends the job from what it raises;
a completed scan stores its results and ends its job in one transaction. Every step goes to
the job's output log.
"""

from __future__ import annotations

import asyncio
import bz2
import hashlib
import logging
from pathlib import Path

from core import paths
from core.content import derive
from core.content.catalog import Datastream
from core.content.tailoring import Tailoring, original_name, read_tailoring
from core.domain import limits
from core.domain.errors import OperatorError, Unreachable
from core.domain.models import Host, compute_score, notice_for
from core.domain.text import neutralise
from core.files import private_dir, private_file, write_private
from core.jobs.runner import JobContext
from core.results import xccdf
from core.safexml import XmlError
from core.targets import remote
from core.targets.connect import connect, sudo_for
from core.targets.transport import Transport
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


async def run_scan_job(ctx: JobContext) -> None:
    """Run the scan of a claimed scan job; raises OperatorError with the reason it failed."""
    workspace, job = ctx.workspace, ctx.job
    host = await workspace.store.require_host(job.host_name)
    timeout = int(job.params.get("timeout") or workspace.settings.scan_timeout)
    evidence = paths.evidence_dir(workspace.data_dir) / f"{job.scan_id}.arf.xml.gz"
    try:
        try:
            async with asyncio.timeout(timeout + 300):
                tailoring = _tailoring(job.params.get("tailoring") or host.tailoring_file)
                datastream, arf_limit = await _scan_on_host(ctx, host, tailoring, timeout, evidence)
        except Unreachable:
            host.status = "offline"
            await workspace.store.update_host(host)
            raise
        except TimeoutError:
            raise OperatorError(f"{host.name}: the scan did not finish in time and was abandoned") from None
        await _store_results(ctx, evidence, datastream, arf_limit)
    except BaseException:
        evidence.unlink(missing_ok=True)  # a failed or cancelled scan leaves no evidence behind
        raise


def _tailoring(kept: str | None) -> Tailoring | None:
    if not kept:
        return None
    return read_tailoring(Path(kept), original_name(Path(kept)))


async def _scan_on_host(
    ctx: JobContext, host: Host, tailoring: Tailoring | None, timeout: int, evidence: Path,
) -> tuple[Datastream, int]:
    """Everything that talks to the target; leaves the ARF in evidence and returns the content
    used and the largest ARF this scan may produce."""
    workspace, job, store = ctx.workspace, ctx.job, ctx.workspace.store
    where = "this machine" if host.transport == "local" else f"{host.address}:{host.port}"
    ctx.say(f"connecting to {host.name} ({where})")
    async with await connect(host) as transport:
        found = await remote.probe(transport)
        ctx.say(f"uid {found.uid}, oscap {found.oscap_version or 'missing'}, "
                f"OS {found.os.pretty_name if found.os else 'unknown'}")
        await _remember_host(workspace, host, found)
        remote.require_oscap(host.name, found)
        choice = await derive.resolve(workspace, found.os, job.profile)
        datastream = choice.datastream
        await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                 datastream.version, derived_from=datastream.derived_from)
        profile_id, total, tailored = choice.profile_id, choice.rule_count, None
        if tailoring:  # the tailoring's own selections change the rule count: unknown up front
            profile_id, total = tailoring.profile_for(choice.profile_id), None
            tailored = (tailoring.name, tailoring.sha256, choice.profile_id)
            ctx.say(f"tailoring {tailoring.name}: profile {profile_id}")
        ctx.say(f"content {datastream.path.name} (SSG {datastream.version}"
                f"{', ' + choice.derived_label if choice.derived_label else ''}), {profile_id}"
                f"{f', {total} rules' if total else ''}")
        await store.assign_content(job.scan_id, profile_id, datastream.sha256, total, tailored)
        sudo = sudo_for(host, found)
        data, digest = await asyncio.to_thread(compressed_datastream, workspace, datastream)
        work = await remote.prepare(transport)
        try:
            remote_ds = f"{work.cache}/{digest}.xml.bz2"
            if await remote.is_cached(transport, remote_ds, digest):
                ctx.say("datastream cached on the target already")
            else:
                ctx.say(f"uploading the datastream ({len(data) // 1024:,} KiB bz2)")
                await remote.upload(transport, data, remote_ds, timeout=600)
            remote_tailoring = None
            if tailoring:
                remote_tailoring = f"{work.tmp}/tailoring.xml"
                await remote.upload(transport, tailoring.path.read_bytes(), remote_tailoring, timeout=120)
            arf = f"{work.tmp}/arf.xml"
            done, most = 0, total or limits.current().rule_results

            async def rule(rule_id: str, result: str) -> None:
                nonlocal done
                if done < most:  # a hostile oscap may print a million lines: the count stays true
                    done += 1
                    await ctx.progress(done, total)

            ctx.say(f"running oscap xccdf eval (timeout {timeout} s)")
            evaluated = await remote.evaluate(transport, sudo, profile_id, remote_ds, arf, timeout, rule,
                                              remote_tailoring, work.tmp)
            ctx.say(f"oscap finished (exit {evaluated.exit_status}) after {done} rules")
            arf_limit = limits.current().arf_bytes(total, _plain_size(datastream.path))
            with private_file(evidence) as sink:  # streamed to disk, whole or not at all
                await remote.fetch_into(transport, sudo, arf, sink, arf_limit, timeout=600)
                fetched = sink.tell()
            ctx.say(f"fetched the results ({fetched // 1024:,} KiB gzip)")
        finally:
            await _cleanup(transport, work)
    return datastream, arf_limit


def _plain_size(path: Path) -> int:
    """The datastream's uncompressed size (an ARF embeds it); bz2 ones expand about 25x: allow 40."""
    size = path.stat().st_size
    return size * 40 if path.suffix == ".bz2" else size


async def _cleanup(transport: Transport, work: remote.Workdir) -> None:
    try:
        await asyncio.shield(remote.remove(transport, work.tmp))
    except (OperatorError, OSError) as exc:  # the connection may be gone; the next scan sweeps it
        log.warning("could not remove %s: %s", work.tmp, neutralise(str(exc)))
    finally:
        await asyncio.shield(work.release())


async def _remember_host(workspace: Workspace, host: Host, found: remote.Probe) -> None:
    host.status = "online"
    if found.os:
        host.os_id, host.os_version = found.os.id, found.os.version
        host.os_name, host.os_family = found.os.pretty_name, found.os.family
    await workspace.store.update_host(host)


async def _store_results(ctx: JobContext, arf_path: Path, datastream: Datastream, arf_limit: int) -> None:
    store, job = ctx.workspace.store, ctx.job
    results = await asyncio.to_thread(_read_results, job.host_name, arf_path, arf_limit)
    if len(results) != 1:
        raise OperatorError(f"the results hold {len(results)} TestResults, expected one")
    rule_results = xccdf.merge_duplicates(results[0].results)
    if not await store.has_rules(datastream.sha256):
        rules = await asyncio.to_thread(xccdf.read_rules, datastream.path)
        await store.save_content(datastream.sha256, datastream.path.name, datastream.benchmark_id,
                                 datastream.version, rules.values(), datastream.derived_from)
    counts = xccdf.count_results(rule_results)
    score = compute_score(counts)
    evaluated = sum(n for result, n in counts.items() if result != "notselected")
    ctx.say(f"stored {evaluated} rule results: {counts.get('pass', 0)} pass, "
            f"{counts.get('fail', 0)} fail, score {'-' if score is None else f'{score:.1f}'}")
    await store.complete_scan(job.scan_id, rule_results, counts, score, notice_for(counts),
                              str(arf_path), job_id=job.id, output=ctx.output)


def _read_results(host_name: str, arf_path: Path, limit: int) -> list[xccdf.TestResultData]:
    try:
        return xccdf.read_test_results(arf_path, limit=limit)
    except XmlError as exc:
        raise OperatorError(f"{host_name}: the results oscap wrote cannot be read: {exc}") from None
