"""The Textual app: six screens on number keys, one Workspace and one job runner for the
app's lifetime.

Kept small: screens, modals and widgets live in their own modules; the screens are listed
in tui/registry.py. Workers report errors to report_worker(), the one place that turns
them into notices.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from core import paths
from core.content.catalog import Datastream
from core.domain.errors import OperatorError
from core.domain.settings import Settings
from core.domain.text import neutralise
from core.store.base import StoreTooNew
from core.store.faults import storage_fault
from core.workspace import Workspace
from tui.base.screen import BaseScreen
from tui.base.view import AppState, NoWorkspace
from tui.commands import ScreenCommands
from tui.common import keymap
from tui.common.nav import NAV
from tui.common.words import plural, said
from tui.modals.confirm import ConfirmModal
from tui.modals.help import HelpModal
from tui.registry import screen_classes
from tui.screens.compliance import ComplianceScreen
from tui.services.jobs import AppJobs
from tui.services.schedules import ScheduleTicker
from tui.services.store_changes import StoreChanges
from tui.widgets.cells import Palette

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ComplianceApp(App):
    TITLE = "compliance-tui"
    CSS_PATH = ["app.tcss", "screens.tcss", "modals.tcss"]
    MODES = screen_classes()
    COMMANDS = App.COMMANDS | {ScreenCommands}
    # Priority bindings (keymap.py) run as the app receives the key, before it routes the keys
    # that follow: a burst like "/ssh" or "name<tab>address" (a slow link delivers typing in
    # bursts) then lands in the field, not in whatever had focus before.
    BINDINGS = [
        *(Binding(key, f"go('{mode}')", label, show=False, id=f"app.go_{mode}") for key, mode, label in NAV),
        *keymap.bindings("app"),
    ]

    def __init__(self, data_dir: Path, *, clock: Clock = utc_now, refresh_seconds: float = 10.0,
                 cursor_blink: bool = True, settings: Settings | None = None):
        super().__init__()
        self.data_dir = data_dir
        self.settings = settings  # None: read the config file and the environment at mount
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.cursor_blink = cursor_blink
        self.workspace: Workspace | None = None
        self.palette = Palette(self)
        self.jobs = AppJobs(self)
        self.schedules = ScheduleTicker(self)  # enqueues due scheduled scans while the app is open
        self.store_changes = StoreChanges(self)  # reload within ~2 s when any process changes a job
        self._content_lock = asyncio.Lock()
        self._history: list[str] = []
        self.user_keys: dict[str, str] = {}  # binding id -> keys, as the config moved them

    async def on_mount(self) -> None:
        try:
            self.workspace = await Workspace.open(self.data_dir, settings=self.settings)
        except OperatorError as exc:  # says which store and why (never its password)
            self.exit(return_code=1, message=f"error: {exc}")
            return
        except (StoreTooNew, OSError, sqlite3.Error) as exc:
            fault = self.storage_fault(exc)
            said = str(fault) if fault else f"cannot open the data dir {self.data_dir}: {exc}"
            self.exit(return_code=1, message=f"error: {said}")
            return
        self.apply_user_keys(self.workspace.settings)
        await self.jobs.start()
        self.schedules.start()
        self.store_changes.start()
        await self.switch_mode("dashboard")
        for notice in self.workspace.notices:  # e.g. a data dir that was readable by others
            self.notify(notice, severity="warning", timeout=20)
        self._discover_content()

    def apply_user_keys(self, settings: Settings) -> None:
        """The config file's [keys]; a move onto a key another binding of that view has is said
        (one line each) and left out, so that neither binding disappears."""
        try:
            moved = keymap.check_user_keymap(dict(settings.keys))
        except OperatorError as exc:
            self.notify(str(exc), severity="error", timeout=20)
            return
        self.user_keys, clashes = keymap.without_clashes(moved)
        self.set_keymap(self.user_keys)
        for clash in clashes:
            self.notify(str(clash), severity="warning", timeout=20)

    async def on_unmount(self) -> None:
        self.schedules.stop()
        self.store_changes.stop()
        await self.jobs.shutdown()
        if self.workspace is not None:
            await self.workspace.close()

    @work(group="content", exit_on_error=False, name="discover content")
    async def _discover_content(self) -> None:
        await self.datastreams()

    async def datastreams(self) -> list[Datastream]:
        """Installed content, discovered once (up to seconds cold: call it from workers)."""
        async with self._content_lock:
            if self.workspace is None:
                raise NoWorkspace("content is discovered once the app has opened the workspace")
            return await self.workspace.datastreams()

    # ---------------------------------------------------------------- navigation

    def action_go(self, mode: str) -> None:
        if mode != self.current_mode:
            self._history = [*self._history[-19:], self.current_mode]
            self.switch_mode(mode)

    def go_back(self) -> None:
        """esc on a top-level screen: the screen visited before, or the dashboard."""
        previous = self._history.pop() if self._history else "dashboard"
        if previous != self.current_mode:
            self.switch_mode(previous)

    def open_compliance(self, host: str | None) -> None:
        """The Compliance screen of this host (closing a Results view left open there)."""
        self.action_go("compliance")
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            self.pop_screen()
        base = self.screen_stack[0]
        if host and isinstance(base, ComplianceScreen):
            base.select_host(host)

    def reload_screen(self) -> bool:
        """Reload the screen on top (another process changed the store); not under a modal, since
        the screen reloads as the modal closes. True when it reloaded."""
        screen = self.screen
        if isinstance(screen, BaseScreen) and screen.is_current and screen.is_mounted:
            screen.reload()
            return True
        return False

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "go" and isinstance(self.screen, ModalScreen):
            return False  # number keys do not switch screens under an open modal
        if action == "filter":  # `/` types itself into a field; elsewhere it opens the search
            usable = getattr(self.screen, "FILTER_INPUT", None) and not isinstance(self.focused, Input)
            return bool(usable)  # False: hidden from the footer, and the key passes on
        return True

    def action_filter(self) -> None:
        screen = self.screen
        if isinstance(screen, BaseScreen):  # the screens with a FILTER_INPUT (check_action)
            screen.action_filter()

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpModal):
            screen.dismiss()
            return
        self.push_screen(HelpModal(screen))

    async def action_quit(self) -> None:
        """q: leave a view pushed over a screen (Results); on a top-level screen, quit."""
        if len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            self.pop_screen()
            return
        await self.action_quit_app()

    async def action_quit_app(self) -> None:
        """ctrl+c, or q on a top-level screen: quit, asking first while this app runs jobs."""
        if isinstance(self.screen, ConfirmModal) and self.screen.title_text == "Quit":
            return  # asked already
        running = self.jobs.active
        if not running:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._cancel_scans_and_exit()

        self.push_screen(ConfirmModal(
            f"This app runs {plural(running, 'job')}. Quit and cancel "
            f"{'them' if running != 1 else 'it'}? Cancelled scans are marked failed; jobs left to "
            "a worker (compliance-tui worker) are not affected.",
            confirm="Quit", refuse="Stay", title="Quit"), answered)

    @work(group="quit", exit_on_error=False, name="quit")
    async def _cancel_scans_and_exit(self) -> None:
        self.notify("cancelling this app's jobs…", timeout=5)
        await self.jobs.shutdown()
        self.exit()

    def run_on(self, mode: str, action: str) -> None:
        """Open a screen and run one of its actions there (the palette's global actions)."""
        self.action_go(mode)
        self.call_after_refresh(self.screen.run_action, action)

    # ---------------------------------------------------------------- errors

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notice is plain text: they quote host names, errors and file names, which
        come from targets and files (markup there would run [@click=...] actions). markup is
        ignored: a screen's or a widget's notify() passes True, Textual's default there."""
        super().notify(neutralise(str(message)), title=neutralise(title), severity=severity,
                       timeout=timeout, markup=False)

    def report_worker(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a notice."""
        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        fault = None if isinstance(error, OperatorError) else self.storage_fault(error)
        if isinstance(error, OperatorError) or fault is not None:
            self.notify(said(fault or error), severity="error", timeout=20 if fault else 12)
        else:
            log.error("worker %s failed", event.worker.name, exc_info=error)
            self.notify(f"internal error in {event.worker.name}: {type(error).__name__}: {error}",
                        severity="error", timeout=20)

    def storage_fault(self, error: BaseException) -> OperatorError | None:
        """A damaged database or a full disk in the operator's words (as the CLI says them)."""
        settings = self.workspace.settings if self.workspace else self.settings
        database = None if settings and settings.store_url else paths.database(self.data_dir)
        return storage_fault(error, database, self.data_dir)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker(event)


if TYPE_CHECKING:  # what screens and modals read of the app (tui/base/view.py), checked here
    _STATE: type[AppState] = ComplianceApp


def run_app(data_dir: Path, settings: Settings | None = None) -> int:
    app = ComplianceApp(data_dir, settings=settings)
    app.run()
    return app.return_code or 0
