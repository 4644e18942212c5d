"""Early reloads on a shared store: on PostgreSQL every process's job changes arrive by
LISTEN/NOTIFY (Store.wait_for_change), and the screen on top reloads within about a second
instead of at its next 10 s refresh, which stays as the fallback. A burst of changes (a
schedule enqueueing hundreds of jobs) is one reload. SQLite tells nobody: nothing runs then.
"""

from __future__ import annotations

import asyncio

from tui.screens.base import BaseScreen

LISTEN_FOR = 30.0  # seconds per wait; a lost listener connection is made again after it
SETTLE = 0.5  # seconds to let a burst of changes end before reloading once


class StoreChanges:
    def __init__(self, app):
        self.app = app
        self.reloads = 0  # early reloads done (tests)

    def start(self) -> None:
        if getattr(self.app.workspace.store, "notifies", False):
            self.app.run_worker(self._listen(), group="store-changes", exclusive=True, exit_on_error=False,
                                name="listen for store changes")

    async def _listen(self) -> None:
        store = self.app.workspace.store
        while self.app.is_running:
            if await store.wait_for_change(LISTEN_FOR):
                await asyncio.sleep(SETTLE)
                self._reload_screen()

    def _reload_screen(self) -> None:
        screen = self.app.screen
        if isinstance(screen, BaseScreen) and screen.is_current and screen.is_mounted:
            self.reloads += 1
            screen.reload()
