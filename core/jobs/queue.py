"""Asking for work: scan jobs from operator input, the jobs made in the store (for a runner
of this process or for any worker: core/jobs/submit.py decides which), and the jobs and
scans an operator names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol, TypeVar

from core.content import tailoring
from core.content.catalog import validate_profile
from core.domain.errors import InvalidInput, NotFound
from core.domain.events import JobEvent
from core.domain.models import DEFAULT_PRIORITY, Host, Job, Scan
from core.jobs.context import JobRunner
from core.store.base import JobStore, NewScanJob, ScanStore
from core.workspace import Workspace

T = TypeVar("T")


class NamingStore(ScanStore, JobStore, Protocol):
    """What finding the scan or job an operator names reads: scans and jobs."""


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
    params: dict[str, Any] = {}
    if tailoring_file is not None:  # a copy the worker can read, whoever runs the job
        params["tailoring"] = str(tailoring.keep_copy(workspace.data_dir, tailoring_file).path)
    if timeout is not None:
        params["timeout"] = timeout
    return [NewScanJob(host, profile, dict(params), priority) for host in hosts]


async def create_scans(workspace: Workspace, wanted: list[NewScanJob], here: JobRunner | None) -> list[Job]:
    """Scan jobs queued for here (a runner of this process: it holds their leases) or, with
    None, pending for any worker."""
    jobs = await workspace.store.create_scan_jobs(wanted, *_lease(here))
    _created(workspace, jobs, here)
    return jobs


async def create_harden(workspace: Workspace, host: Host, params: dict[str, Any], priority: int,
                        here: JobRunner | None) -> Job:
    """A hardening job, as create_scans (one per host: the store refuses a second)."""
    job = await workspace.store.create_harden_job(host, params, priority, *_lease(here))
    _created(workspace, [job], here)
    return job


def _lease(here: JobRunner | None) -> tuple[str | None, str | None]:
    return (here.owner, here.lease_until()) if here else (None, None)


def _created(workspace: Workspace, jobs: list[Job], here: JobRunner | None) -> None:
    for job in jobs:
        workspace.hub.publish(JobEvent("created", job))
    if here:
        here.wake()


async def scan_named(store: NamingStore, given: str) -> Scan:
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


async def job_named(store: NamingStore, given: str) -> Job:
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


async def _found(get: Callable[[str], Awaitable[T]], given: str) -> T | None:
    try:
        return await get(given)
    except NotFound:
        return None
