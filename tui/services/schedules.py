"""The app's side of schedules: while the TUI is open it enqueues due scans too, as the worker
does (the store takes each slot once, whichever process is first).

When no worker has been seen in the last minute the jobs are queued to this app's own runner,
so that they run now instead of waiting for a worker that is not there; the app then tells of
the runs that ended too (drift alerts, core/notify/service.py), as the worker would.
"""

from __future__ import annotations

from core.jobs import submit
from core.notify.service import Notifier
from tui.common.words import plural

EVERY = 20.0  # seconds between looks; slots are at least a minute apart
FIRST = 1.0  # the first look, soon after the app opens: missed schedules run at the next start


class ScheduleTicker:
    def __init__(self, app):
        self.app = app
        self.enqueued = 0  # slots this app enqueued (tests, the notice)
        self._timer = None
        self.notifier: Notifier | None = None

    def start(self) -> None:
        self._timer = self.app.set_timer(FIRST, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        self.app.run_worker(self.run_once, group="schedules", exclusive=True, exit_on_error=False,
                            name="enqueue scheduled scans")

    async def run_once(self) -> int:
        """Enqueue what is due now; re-arms itself after each look."""
        try:
            runner = self.app.jobs.runner
            if runner is None or self.app.workspace is None:
                return 0
            done, here = await submit.scheduled(self.app.workspace, runner, self.app.clock())
            if here:
                if self.notifier is None:
                    self.notifier = Notifier(self.app.workspace, runner.owner)
                await self.notifier.look()
            if done:
                self.enqueued += len(done)
                count = sum(len(d.jobs) for d in done)
                where = "running here (no worker seen)" if here else "left to the worker"
                self.app.notify(f"schedules: {plural(count, 'scan')} enqueued, {where}", timeout=6)
            return len(done)
        finally:
            if self.app.is_running:
                self._timer = self.app.set_timer(EVERY, self._tick)
