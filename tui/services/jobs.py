"""The app's side of the job queue: its own core Runner, and the core event hub as a Textual
signal that screens subscribe to.

Jobs started here run in this app's runner (queued to it) or are left pending for a
`compliance-tui worker`; either way they are rows in the store, so every screen also
re-reads the store while any job anywhere is unfinished. Live progress of this process's
own jobs comes from the hub, between those reloads.
"""

from __future__ import annotations

from textual.signal import Signal

from core.domain.events import JobEvent
from core.domain.models import DEFAULT_PRIORITY, Host, Job, JobStatus
from core.jobs import submit
from core.jobs.runner import Runner
from core.store.base import NewScanJob


class AppJobs:
    def __init__(self, app):
        self.app = app
        self.events: Signal[JobEvent] = Signal(app, "jobs")
        self.runner: Runner | None = None
        self.live: dict[str, Job] = {}  # this app's unfinished jobs, with their latest progress
        self._unsubscribe = None

    async def start(self) -> None:
        workspace = self.app.workspace
        self._unsubscribe = workspace.hub.subscribe(self._on_event)
        self.runner = await Runner(workspace).start()

    def _on_event(self, event: JobEvent) -> None:
        job = event.job
        mine = self.runner is not None and job.lease_owner == self.runner.owner
        if mine and not job.status.finished:
            self.live[job.id] = job
        else:
            self.live.pop(job.id, None)
        self.events.publish(event)

    @property
    def active(self) -> int:
        """Jobs this app runs or will run (the quit question counts these)."""
        return len(self.live)

    def for_scan(self, scan_id: str) -> Job | None:
        """This app's job of that scan, with its live progress."""
        return next((j for j in self.live.values() if j.scan_id == scan_id), None)

    def for_host(self, host: str) -> Job | None:
        running = [j for j in self.live.values() if j.host_name == host]
        return next((j for j in running if j.status is JobStatus.RUNNING), running[0] if running else None)

    async def worker_alive(self) -> bool:
        return await submit.worker_seen(self.app.workspace)

    async def scan(self, wanted: list[NewScanJob], here: bool) -> list[Job]:
        """Start these scans in this app, or leave them pending for a worker."""
        return await submit.scans(self.app.workspace, wanted, self._place(here))

    async def harden(self, params_by_host: list[tuple[Host, dict]], here: bool) -> list[Job]:
        """Hardening (or rollback) jobs in this app, or for a worker; several hosts: a canary first."""
        return await submit.hardening(self.app.workspace, params_by_host, DEFAULT_PRIORITY, self._place(here))

    def _place(self, here: bool) -> submit.Place:
        return self.runner if here else submit.WORKERS

    async def cancel(self, job_id: str) -> Job:
        if self.runner is None:
            raise RuntimeError("the app's job runner has not started yet")
        return await self.runner.cancel(job_id)

    async def shutdown(self) -> None:
        """Cancel what this app runs (each is marked cancelled in the store) and stop."""
        if self.runner is not None:
            await self.runner.stop()
        if self._unsubscribe:
            self._unsubscribe()
