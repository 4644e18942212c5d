"""The app's state as its screens and modals read it, typed: self.workspace, self.jobs and
self.palette instead of self.app.workspace (which is None until the app has opened it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from textual.widgets import Input

from tui.widgets.view import WidgetApp

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from textual.app import App
    from textual.css.query import DOMQuery
    from textual.worker import Worker

    from core.content.catalog import Datastream
    from core.workspace import Workspace
    from tui.services.jobs import AppJobs
    from tui.widgets.cells import Palette


class AppState(WidgetApp, Protocol):
    """What of ComplianceApp its screens, modals and command palette use (tui/app.py checks
    that ComplianceApp is one)."""

    cursor_blink: bool
    workspace: Workspace | None
    jobs: AppJobs
    palette: Palette
    clock: Callable[[], datetime]
    refresh_seconds: float
    user_keys: dict[str, str]

    async def datastreams(self) -> list[Datastream]: ...

    def go_back(self) -> None: ...

    def open_compliance(self, host: str | None) -> None: ...

    def run_on(self, mode: str, action: str) -> None: ...

    def report_worker(self, event: Worker.StateChanged) -> None: ...


class NoWorkspace(RuntimeError):
    """A screen asked for the Workspace before the app opened it (ComplianceApp.on_mount)."""


class AppView:
    """Mixed into BaseScreen and BaseModal, Textual screens: self.app is the running app."""

    app: App
    query: Callable[..., DOMQuery]

    @property
    def state(self) -> AppState:
        return cast("AppState", self.app)

    @property
    def workspace(self) -> Workspace:
        workspace = self.state.workspace
        if workspace is None:
            raise NoWorkspace(f"{type(self).__name__} needs the workspace, which the app has not opened yet")
        return workspace

    @property
    def jobs(self) -> AppJobs:
        """This app's jobs: its runner and the live job events."""
        return self.state.jobs

    @property
    def palette(self) -> Palette:
        """Cells in the colours of the current theme."""
        return self.state.palette

    def stop_blinking(self) -> None:
        """The app's cursor_blink off (snapshots, slow links): no field of this view blinks."""
        if not self.state.cursor_blink:
            for field in self.query(Input):  # a Textual screen's
                field.cursor_blink = False
