"""What a job handler gets (JobContext): its job, a log, a progress reporter, and the runner
that runs it, seen only as JobRunner, so that no handler imports the runner.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Awaitable, Callable, Protocol

from core.domain.models import Job
from core.jobs.log import JobLog, log_failure
from core.workspace import Workspace

PROGRESS_EVENT_EVERY = 0.25  # seconds between progress events of a job (a redraw each)
PROGRESS_WRITE_EVERY = 1.0  # seconds between progress writes to the store


class JobRunner(Protocol):
    """A runner of this process (core/jobs/runner.py), as jobs and the queue see it: it holds
    the leases of the jobs queued for it, and publishes what they do on the workspace's hub."""

    workspace: Workspace
    owner: str

    def lease_until(self) -> str: ...

    def wake(self) -> None: ...

    def publish(self, kind: str, job: Job) -> None: ...


class JobContext:
    """What a job handler gets: its job, a log, and a progress reporter."""

    def __init__(self, runner: JobRunner, job: Job):
        self.runner, self.job = runner, job
        self.workspace = runner.workspace
        self.log = JobLog(job.output)
        self.timings: dict[str, float] = {}  # a scan: seconds each rule took
        self._event_at = 0.0
        self._write_at = 0.0
        self._event_due: asyncio.TimerHandle | None = None  # the latest state, published soon
        self._write_due: asyncio.TimerHandle | None = None  # ... and written soon
        self._writing: set[asyncio.Task[None]] = set()

    def say(self, line: str) -> None:
        self.log.add(line)

    @property
    def output(self) -> str:
        return self.log.text

    async def progress(self, done: int, total: int | None, current: str | None = None,
                       current_since: str | None = None) -> None:
        """Live progress: an event at most every 0.25 s, a store write at most every second, and
        the latest state always follows within that time, whether or not another call comes:
        after a burst of quick rules, a rule that then runs for minutes shows at once."""
        first = done > 0 and not self.job.progress_done  # others wait for "it has begun"
        self.job = replace(self.job, progress_done=done, progress_total=total or self.job.progress_total,
                           current=current, current_since=current_since)
        if first or (total and done >= total):
            self._publish()
            await self.flush()
            return
        self._publish_soon()
        await self._write_soon()

    def begin_scan(self, scan_id: str, total: int | None) -> None:
        """A scan starts within this job (a hardening job's re-scan): from now on its progress
        counts that scan's rules, of total (None: not known), no longer what came before."""
        self.job = replace(self.job, scan_id=scan_id, progress_done=0, progress_total=total,
                           current=None, current_since=None)

    def _publish(self) -> None:
        if self._event_due is not None:
            self._event_due.cancel()
            self._event_due = None
        self._event_at = time.monotonic()
        self.runner.publish("progress", self.job)

    def _publish_soon(self) -> None:
        wait = self._event_at + PROGRESS_EVENT_EVERY - time.monotonic()
        if wait <= 0:
            self._publish()
        elif self._event_due is None:
            self._event_due = asyncio.get_running_loop().call_later(wait, self._publish)

    async def _write_soon(self) -> None:
        wait = self._write_at + PROGRESS_WRITE_EVERY - time.monotonic()
        if wait <= 0:
            await self.flush()
        elif self._write_due is None:
            self._write_due = asyncio.get_running_loop().call_later(wait, self._write_later)

    def _write_later(self) -> None:
        self._write_due = None
        task = asyncio.create_task(self._flush_quietly())
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def _flush_quietly(self) -> None:
        try:
            await self.flush()
        except Exception as exc:  # the next write, or the job's end, tries again
            log_failure("recording progress", exc)

    async def flush(self) -> None:
        """Write the log and progress now (a step others watch for has just ended)."""
        if self._write_due is not None:
            self._write_due.cancel()
            self._write_due = None
        self._write_at = time.monotonic()
        job = self.job
        await self.workspace.store.record_progress(job.id, job.progress_done, job.progress_total, job.current,
                                                   job.current_since, self.output)

    async def close(self) -> None:
        """The job ends: nothing of its progress may be published or written after this."""
        for due in (self._event_due, self._write_due):
            if due is not None:
                due.cancel()
        self._event_due = self._write_due = None
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)


Handler = Callable[[JobContext], Awaitable[None]]
