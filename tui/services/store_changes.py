"""Early reloads on a shared store: another process's jobs (the CLI, cron, a worker, another
TUI) reach the screen on top within about two seconds, on every screen and even while no job
was known to run (the 10 s refresh runs only then, and stays as the fallback). PostgreSQL
wakes Store.wait_for_change by LISTEN/NOTIFY; SQLite's polls a change counter every second.
A burst of changes (a schedule enqueueing hundreds of jobs) is one reload. While a modal is
open nothing reloads (ComplianceApp.reload_screen): the screen reloads as the modal closes
(BaseScreen.on_screen_resume).
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)
LISTEN_FOR = 30.0  # seconds per wait; a lost listener connection is made again after it
SETTLE = 0.5  # seconds to let a burst of changes end before reloading once


class StoreChanges:
    """A task of its own for the app's lifetime, not a Textual worker: it never completes, and
    waiting for the app's workers to finish (tests, screens) must not wait for it."""

    def __init__(self, app):
        self.app = app
        self.reloads = 0  # early reloads done (tests)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="listen for store changes")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _listen(self) -> None:
        store = self.app.workspace.store
        while True:
            try:
                if await store.wait_for_change(LISTEN_FOR):
                    await asyncio.sleep(SETTLE)
                    self._reload_screen()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store went away for a moment: the periodic refresh covers it
                log.warning("listening for store changes failed; retrying", exc_info=True)
                await asyncio.sleep(LISTEN_FOR)

    def _reload_screen(self) -> None:
        if self.app.reload_screen():
            self.reloads += 1
