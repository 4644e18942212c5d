"""The one runner of jobs: the TUI, the CLI's in-process `scan` and `compliance-tui worker`
all use it. Jobs come to it through core/jobs/submit.py; their handlers, by kind, from
core/jobs/kinds.py.

It claims jobs from the store (its own queued ones; as a worker, any pending one too), at
most settings.max_concurrent at once, highest priority first; the store keeps a job that
changes a host from running beside another job of that host. While jobs run it renews
their leases, and through the renewal it learns of cancel requests made by any process.
Every job ends in the store as completed, failed or cancelled, or back in the queue when a
stopping worker hands it back; what happens is published on the workspace's event hub.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from datetime import datetime, timedelta, timezone

from core.content.catalog import ContentError
from core.domain.errors import OperatorError
from core.domain.events import JobEvent
from core.domain.models import Job, JobStatus
from core.domain.text import one_line
from core.domain.timeutil import to_iso
from core.jobs.context import Handler, JobContext
from core.jobs.log import log_failure
from core.store.faults import storage_fault
from core.workspace import Workspace

log = logging.getLogger(__name__)
CANCELLED = "cancelled by the operator"


def owner_id() -> str:
    """Names this process in leases: unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Runner:
    def __init__(self, workspace: Workspace, *, take_pending: bool = False,
                 handlers: dict[str, Handler] | None = None, poll_seconds: float = 2.0,
                 zone: str | None = None):
        self.workspace = workspace
        self.take_pending = take_pending  # a worker: any pending job; else only its own
        self.zone = zone  # pending jobs of hosts in this zone only (None: hosts without a zone)
        if not handlers:  # the table of job kinds loads the scan engine: only when it runs here
            from core.jobs.kinds import default_handlers

            handlers = default_handlers()
        self.handlers = handlers
        self.poll_seconds = poll_seconds
        self.owner = owner_id()
        self.running: dict[str, asyncio.Task[None]] = {}
        self._contexts: dict[str, JobContext] = {}
        self._cancel_reasons: dict[str, str] = {}
        self._wakeup = asyncio.Event()
        self._changed = asyncio.Event()  # a job of ours ended
        self._claiming = True
        self._stopped = False
        self._tasks: list[asyncio.Task[None]] = []
        self._empty_claim = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> "Runner":
        self._tasks = [asyncio.create_task(self._claim_loop(), name="runner-claim"),
                       asyncio.create_task(self._renew_loop(), name="runner-renew")]
        if self.workspace.store.notifies:
            self._tasks.append(asyncio.create_task(self._listen_loop(), name="runner-listen"))
        return self

    async def __aenter__(self) -> "Runner":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def max_concurrent(self) -> int:
        return self.workspace.settings.max_concurrent

    def lease_until(self) -> str:
        until = datetime.now(timezone.utc) + timedelta(seconds=self.workspace.settings.lease_seconds)
        return to_iso(until)

    async def stop(self, grace: float = 0.0, release: bool = False) -> None:
        """Stop claiming; let running jobs finish for up to grace seconds; then cancel them
        (release: hand them back to the queue instead, for a stopping worker). Queued jobs of
        this process go back to the queue."""
        if self._stopped:
            return
        self._claiming = False
        self.wake()
        if self.running and grace > 0:
            await asyncio.wait(list(self.running.values()), timeout=grace)
        for job_id, task in list(self.running.items()):
            self._cancel_reasons.setdefault(job_id, "release" if release else "the app stopped before it finished")
            task.cancel()
        if self.running:
            await asyncio.wait(list(self.running.values()), timeout=30)
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.workspace.store.release_jobs(self.owner)

    # ------------------------------------------------------------------ cancelling and waiting

    async def cancel(self, job_id: str) -> Job:
        """Cancel a job of any process: waiting ones at once, a running one of ours at once too,
        another process's running one as soon as its runner renews its lease."""
        job = await self.workspace.store.cancel_job(job_id)
        if job.id in self.running:
            self._cancel_reasons[job.id] = CANCELLED
            self.running[job.id].cancel()
        elif job.status.finished:
            self.publish("finished", job)
        return job

    async def wait_for(self, job_ids: list[str]) -> list[Job]:
        """Wait until every one of these jobs has ended (whoever ran or cancelled it)."""
        store = self.workspace.store
        while True:
            jobs = [await store.get_job(i) for i in job_ids]
            if all(j.status.finished for j in jobs):
                return jobs
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    async def run_until_idle(self) -> None:
        """Return once nothing is running and nothing more can be claimed (worker --once)."""
        while True:
            self._empty_claim = False
            self.wake()
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            if self._empty_claim and not self.running:
                return

    # ------------------------------------------------------------------ loops

    async def _claim_loop(self) -> None:
        store = self.workspace.store
        last_expiry = 0.0
        while self._claiming:
            self._wakeup.clear()
            try:
                if time.monotonic() - last_expiry >= self.workspace.settings.renew_every():
                    last_expiry = time.monotonic()
                    for expired in await self.workspace.recover_expired():
                        log.warning("job %s: %s stopped; %s", expired.job.short_id, expired.job.lease_owner,
                                    "re-queued" if expired.requeued else "failed")
                while self._claiming and len(self.running) < self.max_concurrent:
                    job = await store.claim_job(self.owner, self.lease_until(), self.take_pending, self.zone)
                    if job is None:
                        self._empty_claim = True
                        self._changed.set()
                        break
                    self._begin(job)
            except Exception as exc:  # e.g. the database locked for too long: try again shortly
                log_failure("claiming jobs", exc)
            try:
                await asyncio.wait_for(self._wakeup.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    async def _listen_loop(self) -> None:
        """A shared store that tells of changes: claim a new job, or see a job of another
        process end, at once rather than at the next poll (which stays as the fallback)."""
        while True:
            try:
                if await self.workspace.store.wait_for_change(30.0):
                    self._changed.set()
                    self.wake()
            except Exception as exc:
                log_failure("listening for store changes", exc)
                await asyncio.sleep(self.poll_seconds)

    async def _renew_loop(self) -> None:
        store = self.workspace.store
        while True:
            await asyncio.sleep(self.workspace.settings.renew_every())
            try:
                for job_id in await store.renew_leases(self.owner, self.lease_until()):
                    if job_id in self.running and job_id not in self._cancel_reasons:
                        self._cancel_reasons[job_id] = CANCELLED
                        self.running[job_id].cancel()
            except Exception as exc:
                log_failure("renewing leases", exc)

    # ------------------------------------------------------------------ one job

    def _begin(self, job: Job) -> None:
        context = JobContext(self, job)
        self._contexts[job.id] = context
        self.running[job.id] = asyncio.create_task(self._run(context), name=f"job {job.short_id}")
        self.publish("started", job)

    async def _run(self, context: JobContext) -> None:
        job = context.job
        status, error = JobStatus.COMPLETED, None
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise OperatorError(f"this version of compliance-tui cannot run {job.kind!r} jobs")
            await handler(context)
        except asyncio.CancelledError:
            status, error = JobStatus.CANCELLED, self._cancel_reasons.get(job.id, CANCELLED)
        except (OperatorError, ContentError) as exc:
            status, error = JobStatus.FAILED, one_line(str(exc))
        except Exception as exc:  # a bug (or a full disk) must not leave the job running
            fault = storage_fault(exc, getattr(self.workspace.store, "path", None), self.workspace.data_dir)
            if fault is None:
                log.exception("job %s failed", job.id)
            status, error = JobStatus.FAILED, one_line(str(fault) if fault else
                                                       f"internal error: {type(exc).__name__}: {exc}")
        try:
            await asyncio.shield(self._ended(context, status, error))
        finally:
            self.running.pop(job.id, None)
            self._contexts.pop(job.id, None)
            self._cancel_reasons.pop(job.id, None)
            self._changed.set()
            self.wake()

    async def _ended(self, context: JobContext, status: JobStatus, error: str | None) -> None:
        await context.close()
        await self._end(context, status, error)

    async def _end(self, context: JobContext, status: JobStatus, error: str | None) -> None:
        store, job = self.workspace.store, context.job
        if error == "release":
            await store.release_jobs(self.owner, [job.id])
            self.publish("finished", await store.get_job(job.id))
            return
        if error:
            context.say(f"{status.value}: {error}")
        final = await store.finish_job(job.id, status.value, error, context.output)
        self.publish("finished", final)

    def publish(self, kind: str, job: Job) -> None:
        self.workspace.hub.publish(JobEvent(kind, job))
