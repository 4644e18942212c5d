"""The base of every screen: the error hand-off, esc and `/`, auto-refresh, live job news."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker

from core.domain.events import JobEvent
from tui.base.view import AppView
from tui.common import keymap
from tui.widgets.cards import NavBar

Read = Callable[[], Awaitable[object]]  # reads a screen's data (in a worker)


class BaseScreen(AppView, Screen):
    """A top-level screen (one per mode), or a screen pushed over one (Results).

    Subclasses implement read() and show() (or reload() for a loading of their own, then
    arm_refresh(wanted)); the screen reloads itself every app.refresh_seconds while wanted
    (any job in the store is unfinished, whichever process runs it), re-arming with
    set_timer, and not while a modal or another screen is on top.
    """

    MODE = ""
    AUTO_FOCUS = "KeyedTable"
    FILTER_INPUT: str | None = None  # id of the Input that `/` focuses
    MAIN: str | None = None  # id of the widget that esc returns to from the toolbar
    BINDINGS = keymap.bindings("screen")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refresh_timer: Timer | None = None
        self._refresh_wanted = False

    def on_mount(self) -> None:
        self.stop_blinking()
        self.jobs.events.subscribe(self, self._jobs_changed)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.theme_changed())

    def theme_changed(self) -> None:
        """Cells carry colours of the theme they were made with: make them again."""
        for widget in self.query(".themed"):
            widget.refresh_theme()
        if self.is_mounted:
            self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.state.report_worker(event)

    # ---------------------------------------------------------------- keys

    def action_filter(self) -> None:
        """`/` (an app binding, see ComplianceApp): focus the search field at once."""
        if self.FILTER_INPUT:
            self.set_focus(self.query_one(f"#{self.FILTER_INPUT}", Input))

    def clear_filters(self) -> bool:
        """esc in a filtered view clears the filter first (as k9s does); True when it did."""
        return False

    def action_back(self) -> None:
        """esc: from the toolbar back to the table; then clear a filter; then the previous screen."""
        if self.MAIN and self.focused is not None and self.focused.id != self.MAIN:
            self.set_focus(self.query_one(f"#{self.MAIN}"))
        elif self.clear_filters():
            return
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.state.go_back()

    # ---------------------------------------------------------------- loading

    class Loaded(Message):
        """What load() read, for show(): only message handlers touch widgets."""

        def __init__(self, data: object):
            super().__init__()
            self.data = data

    def reload(self) -> None:
        """Read this screen's data again: read() says what, with the filters as they are now;
        load() reads it in a worker; show() draws it."""
        read = self.read()
        if read is not None:
            self.load(read)

    def read(self) -> Read | None:
        """What to read, from core's read models (never SQL); None: this screen reads nothing."""
        return None

    def show(self, data) -> bool:
        """Draw what was read (in one batch_update); True while the screen should refresh
        itself (jobs are unfinished)."""
        return False

    def action_reload(self) -> None:
        self.reload()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self, read: Read) -> None:
        self.post_message(self.Loaded(await read()))

    def on_base_screen_loaded(self, message: Loaded) -> None:
        with self.app.batch_update():
            wanted = self.show(message.data)
        self.arm_refresh(wanted)

    # ---------------------------------------------------------------- refresh

    def arm_refresh(self, wanted: bool) -> None:
        self._refresh_wanted = wanted
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        if wanted and self.is_current:
            self._refresh_timer = self.set_timer(self.state.refresh_seconds, self._refresh_due)

    def _refresh_due(self) -> None:
        self._refresh_timer = None
        if self.is_current:
            self.reload()

    def on_screen_suspend(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None

    def on_screen_resume(self) -> None:
        self._update_nav()
        if self.is_mounted:
            self.reload()

    # ---------------------------------------------------------------- jobs of this app

    def _jobs_changed(self, event: JobEvent) -> None:
        self._update_nav()
        self.on_job_event(event)

    def on_job_event(self, event: JobEvent) -> None:
        """Live job news of this process (created, started, progress, finished); override to
        react. Other processes' jobs show through reload() on the auto-refresh."""

    def _update_nav(self) -> None:
        for bar in self.query(NavBar):
            bar.set_running(self.jobs.active)
