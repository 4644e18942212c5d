"""Asking for work: scan jobs from operator input, and what can be done to waiting jobs.

The caller picks who runs the jobs: Runner.enqueue_scans (this process, at once) or
enqueue_for_workers (any worker, when one runs).
"""

from __future__ import annotations

from pathlib import Path

from core.content import tailoring
from core.content.catalog import validate_profile
from core.domain.errors import InvalidInput, NotFound
from core.domain.events import JobEvent
from core.domain.models import DEFAULT_PRIORITY, Host, Job, Scan
from core.store.base import NewScanJob, Store
from core.workspace import Workspace


def check_priority(priority: int | str) -> int:
    try:
        value = int(priority)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 10:
        raise InvalidInput(f"invalid priority {priority!r}: use a number from 1 (last) to 10 (first)")
    return value


async def scan_requests(
    workspace: Workspace, host_names: list[str], profile: str, *, tailoring_file: Path | None = None,
    timeout: int | None = None, priority: int = DEFAULT_PRIORITY,
) -> list[NewScanJob]:
    """One scan job per host (each named once), checked before anything is stored."""
    validate_profile(profile)
    priority = check_priority(priority)
    if timeout is not None and timeout < 1:
        raise InvalidInput(f"invalid timeout {timeout!r}: give seconds, at least 1")
    hosts = [await workspace.store.require_host(name) for name in dict.fromkeys(host_names)]
    params: dict = {}
    if tailoring_file is not None:  # a copy the worker can read, whoever runs the job
        params["tailoring"] = str(tailoring.keep_copy(workspace.data_dir, tailoring_file).path)
    if timeout is not None:
        params["timeout"] = timeout
    return [NewScanJob(host, profile, dict(params), priority) for host in hosts]


async def enqueue_for_workers(workspace: Workspace, wanted: list[NewScanJob]) -> list[Job]:
    """Pending jobs that any `compliance-tui worker` on this store will run."""
    jobs = await workspace.store.create_scan_jobs(wanted)
    for job in jobs:
        workspace.hub.publish(JobEvent("created", job))
    return jobs


async def harden_for_workers(workspace: Workspace, host, params: dict, priority: int) -> Job:
    """A pending hardening job that a worker will run."""
    job = await workspace.store.create_harden_job(host, params, check_priority(priority))
    workspace.hub.publish(JobEvent("created", job))
    return job


async def submit_hardening(workspace: Workspace, runner, params_by_host: list[tuple[Host, dict]], priority: int,
                           canary: bool = True) -> list[Job]:
    """Hardening jobs, run by runner (this process) or, without one, left to a worker. With
    several hosts and canary: one job, for the first host; the others follow only when it
    passed (core/jobs/harden.py), so a fix that breaks a host breaks one."""
    priority = check_priority(priority)
    if canary and len(params_by_host) > 1:
        (first, params), rest = params_by_host[0], params_by_host[1:]
        followers = [{"host": host.name, "params": dict(p)} for host, p in rest]
        params_by_host = [(first, {**params, "then": followers, "here": runner is not None})]
    jobs = []
    for host, params in params_by_host:
        if runner is not None:
            jobs.append(await runner.enqueue_harden(host, params, priority))
        else:
            jobs.append(await harden_for_workers(workspace, host, params, priority))
    return jobs


async def scan_named(store: Store, given: str) -> Scan:
    """The scan an operator names: by its id, or by the id of the job that ran it (what
    `scan --enqueue` and `jobs list` print; a hardening job's: its re-scan)."""
    try:
        return await store.get_scan(given)
    except NotFound:
        job = await _found(store.get_job, given)
    if job is None:
        raise NotFound(f"no scan or job {given.strip().lower()!r}; see `compliance-tui scans list`")
    if job.scan_id is None:
        raise NotFound(f"job {job.short_id} ({job.kind} of {job.host_name}) has no scan yet")
    return await store.get_scan(job.scan_id)


async def job_named(store: Store, given: str) -> Job:
    """The job an operator names: by its id, or by the id of its scan (what `scan` prints)."""
    try:
        return await store.get_job(given)
    except NotFound:
        scan = await _found(store.get_scan, given)
    job = await store.job_for_scan(scan.id) if scan else None
    if job is None:
        why = " (an imported scan has none)" if scan else ""
        raise NotFound(f"no job {given.strip().lower()!r}{why}; see `compliance-tui jobs list`")
    return job


async def _found(get, given: str):
    try:
        return await get(given)
    except NotFound:
        return None
