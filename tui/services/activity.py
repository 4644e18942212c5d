"""Scans this app runs: started in app-level workers, live progress published as a signal.

Scans belong to the app, not to a screen or modal, so closing the Bulk Scan modal or
switching screens never cancels them. One semaphore across every batch keeps at most
`max_concurrent` scans running. On quit, shutdown() cancels them and waits until core
has marked each one failed; a scan still waiting its turn is marked failed here.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from textual.signal import Signal

from core.domain.models import Host, Scan
from tui.services import remote

PROGRESS_EVERY = 0.25  # seconds between progress events per scan (a redraw each)


@dataclass(frozen=True)
class ScanEvent:
    kind: str  # "created", "progress" or "finished"
    scan_id: str
    host: str
    done: int = 0
    total: int | None = None
    scan: Scan | None = None
    batch: int = 0  # which start() call it belongs to


class ScanActivity:
    def __init__(self, app):
        self._app = app
        self.events: Signal[ScanEvent] = Signal(app, "scan-activity")
        self.progress: dict[str, tuple[int, int | None]] = {}  # running scans, by id
        self._hosts: dict[str, str] = {}
        self._published: dict[str, float] = {}
        self._tasks: set[asyncio.Task] = set()  # the worker tasks of running batches
        self._limit: asyncio.Semaphore | None = None
        self._batches = 0

    @property
    def active(self) -> int:
        """Scans created by this app that have not finished yet."""
        return len(self._hosts)

    def host_progress(self, host_name: str) -> tuple[int, int | None] | None:
        """(done, total) of a scan this app runs on that host, if one is running."""
        for scan_id, name in self._hosts.items():
            if name == host_name and scan_id in self.progress:
                return self.progress[scan_id]
        return None

    def start(self, hosts: list[Host], profile: str) -> int:
        """Create one scan per host and run them; returns the batch number events carry."""
        remote.validate_profile(profile)
        self._batches += 1
        batch = self._batches
        names = ", ".join(h.name for h in hosts[:3]) + ("…" if len(hosts) > 3 else "")
        self._app.run_worker(
            self._run(list(hosts), profile, batch), group="scans", exit_on_error=False,
            name=f"scan {names}", description=f"{profile} on {names}",
        )
        return batch

    async def _run(self, hosts: list[Host], profile: str, batch: int) -> list[Scan]:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            return await self._batch(hosts, profile, batch)
        finally:
            self._tasks.discard(task)

    async def _batch(self, hosts: list[Host], profile: str, batch: int) -> list[Scan]:
        workspace = self._app.workspace
        if self._limit is None:
            self._limit = asyncio.Semaphore(workspace.max_concurrent)
        created: list[tuple[Scan, Host]] = []
        for host in hosts:
            scan = await remote.create_scan(workspace, host, profile)
            created.append((scan, host))
            self._hosts[scan.id] = host.name
            self.progress[scan.id] = (0, None)
            self.events.publish(ScanEvent("created", scan.id, host.name, scan=scan, batch=batch))
        return list(await asyncio.gather(*(self._one(s, h, batch) for s, h in created)))

    async def _one(self, scan: Scan, host: Host, batch: int) -> Scan:
        started = False
        try:
            async with self._limit:
                started = True
                done = await remote.run_scan(
                    self._app.workspace, scan, host,
                    lambda scan_id, n, total: self._progress(scan_id, n, total, batch),
                )
        except asyncio.CancelledError:
            if not started:
                await asyncio.shield(self._app.workspace.store.fail_scan(
                    scan.id, "cancelled before it started (the app quit); scan again"))
            self._forget(scan.id)
            raise
        self._forget(scan.id)
        self.events.publish(ScanEvent("finished", scan.id, host.name, scan=done, batch=batch))
        return done

    def _forget(self, scan_id: str) -> None:
        self.progress.pop(scan_id, None)
        self._hosts.pop(scan_id, None)
        self._published.pop(scan_id, None)

    def _progress(self, scan_id: str, done: int, total: int | None, batch: int) -> None:
        self.progress[scan_id] = (done, total)
        now = time.monotonic()
        if now - self._published.get(scan_id, 0.0) >= PROGRESS_EVERY or (total and done >= total):
            self._published[scan_id] = now
            self.events.publish(ScanEvent("progress", scan_id, self._hosts.get(scan_id, ""),
                                          done, total, batch=batch))

    async def shutdown(self, timeout: float = 15.0) -> None:
        """Cancel every scan this app runs and wait until each is marked failed.

        A task cancelled already (Textual cancels workers when the app exits) is not
        cancelled again: a second cancel would interrupt core's shielded failure write.
        """
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            if not task.cancelling():
                task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
