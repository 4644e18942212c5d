"""The base of every screen: the error hand-off, esc and `/`, auto-refresh, live job news."""

from __future__ import annotations

from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker

from core.domain.events import JobEvent
from tui.base.view import AppView
from tui.common import keymap
from tui.widgets.cards import NavBar


class BaseScreen(AppView, Screen):
    """A top-level screen (one per mode), or a screen pushed over one (Results).

    Subclasses implement reload(); after loading they call arm_refresh(wanted) and the
    screen reloads itself every app.refresh_seconds while wanted (any job in the store is
    unfinished, whichever process runs it), re-arming with set_timer, and not while a
    modal or another screen is on top.
    """

    MODE = ""
    AUTO_FOCUS = "KeyedTable"
    FILTER_INPUT: str | None = None  # id of the Input that `/` focuses
    MAIN: str | None = None  # id of the widget that esc returns to from the toolbar
    BINDINGS = keymap.bindings("screen")

    def __init__(self, *args, **kwargs):
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
        self.app.report_worker(event)

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
            self.app.go_back()

    # ---------------------------------------------------------------- refresh

    def reload(self) -> None:
        """Start loading this screen's data (a worker); subclasses implement it."""

    def arm_refresh(self, wanted: bool) -> None:
        self._refresh_wanted = wanted
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        if wanted and self.is_current:
            self._refresh_timer = self.set_timer(self.app.refresh_seconds, self._refresh_due)

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
