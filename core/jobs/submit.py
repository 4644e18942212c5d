"""Submitting jobs: the one way the CLI and the TUI ask for scans, hardening and rollbacks,
and the one place that decides who runs them.

Who runs a job:
- the operator chooses this process or a worker (the CLI's `--enqueue`; the TUI's Run choice,
  which starts on "a worker" while one is seen alive: worker_seen). The caller passes it as
  the job's place: the runner of the TUI (the jobs are queued to it, and this returns at once),
  Wait (the CLI: a runner of its own runs them, and this returns once all have ended, with
  the followers a canary released) or WORKERS (pending for any `compliance-tui worker` that
  runs the host's zone);
- a canary's followers go where the canary went: its params say `here`, and the canary's
  job (core/jobs/harden.py) queues them to the runner that ran it, or for the workers;
- due schedules (scheduled(), the TUI's; a worker leaves its own pending): this process runs
  them while no worker has been seen in the last minute, else the workers do; a host in a
  zone waits for its zone's worker either way (core/schedules/service.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from core.audit.log import record_many
from core.domain.events import Subscriber
from core.domain.models import Host, Job
from core.jobs import queue
from core.jobs.context import JobRunner
from core.jobs.runner import Runner
from core.store.base import NewScanJob
from core.workspace import Workspace

if TYPE_CHECKING:
    from core.schedules.service import Enqueued

WORKERS = None  # the place of jobs left pending for the workers


@dataclass(frozen=True)
class Wait:
    """The place of jobs run here and waited for; listener hears this process's job events
    meanwhile (the CLI's progress lines)."""

    listener: Subscriber


Place = JobRunner | Wait | None
Create = Callable[[JobRunner | None], Awaitable[list[Job]]]


async def scans(workspace: Workspace, wanted: list[NewScanJob], place: Place) -> list[Job]:
    """A scan job per request (queue.scan_requests), run where place says."""
    async def create(here: JobRunner | None) -> list[Job]:
        jobs = await queue.create_scans(workspace, wanted, here)
        await record_many(workspace, [("scan.started", job.host_name, {
            "job": job.id, "profile": job.profile, "priority": job.priority}) for job in jobs])
        return jobs

    return await _submit(workspace, place, create)


async def hardening(workspace: Workspace, params_by_host: list[tuple[Host, dict[str, Any]]], priority: int | str,
                    place: Place, canary: bool = True) -> list[Job]:
    """Hardening jobs (a rollback is one too), run where place says. With several hosts and
    canary: one job, for the first host; the others follow only when it passed, so a fix that
    breaks a host breaks one."""
    priority = queue.check_priority(priority)
    if canary and len(params_by_host) > 1:
        (first, params), rest = params_by_host[0], params_by_host[1:]
        followers = [{"host": host.name, "params": dict(p)} for host, p in rest]
        params_by_host = [(first, {**params, "then": followers, "here": place is not WORKERS})]

    async def create(here: JobRunner | None) -> list[Job]:
        jobs = [await queue.create_harden(workspace, host, params, priority, here) for host, params in params_by_host]
        await record_many(workspace, [("fix.requested", job.host_name, _fix_details(job)) for job in jobs])
        return jobs

    return await _submit(workspace, place, create)


def _fix_details(job: Job) -> dict[str, Any]:
    """What an auditor asks of a requested fix or rollback: which job, which rules, what it undoes."""
    params = job.params
    details: dict[str, Any] = {"job": job.id}
    for key in ("rollback_of", "profile", "source_scan", "rules"):
        if params.get(key):
            details[key] = params[key]
    if params.get("then"):
        details["canary_for"] = [f.get("host") for f in params["then"]]
    return details


async def scheduled(workspace: Workspace, runner: JobRunner,
                    now: datetime | None = None) -> tuple[list[Enqueued], bool]:
    """The due slots of the schedules, from a process that is no worker (the TUI, with its
    runner); returns them, and whether they run here."""
    from core.schedules.service import enqueue_due  # not loaded by the CLI's scan and fix

    here = not await worker_seen(workspace)
    done = await enqueue_due(workspace, runner.owner, now, owner=runner.owner if here else None,
                             lease_until=runner.lease_until() if here else None)
    if done:
        runner.wake()
    return done, here


async def worker_seen(workspace: Workspace) -> bool:
    """A worker's heartbeat in the last minute: jobs left to the workers will run soon."""
    from core.jobs.worker import HEARTBEAT, worker_alive

    return worker_alive(await workspace.store.get_meta(HEARTBEAT))


async def _submit(workspace: Workspace, place: Place, create: Create) -> list[Job]:
    if isinstance(place, Wait):
        return await _run_and_wait(workspace, create, place.listener)
    return await create(place)


async def _run_and_wait(workspace: Workspace, create: Create, listener: Subscriber) -> list[Job]:
    """The jobs create makes, run by a runner of this process; each as it ended, then the
    followers a canary released, as they ended."""
    unsubscribe = workspace.hub.subscribe(listener)
    runner = await Runner(workspace).start()
    try:
        waiting, ended = [job.id for job in await create(runner)], []
        while waiting:
            finished = await runner.wait_for(waiting)
            ended += finished
            waiting = [f for job in finished for f in (job.result or {}).get("followers", [])]
    finally:
        await runner.stop()
        unsubscribe()
    return ended
