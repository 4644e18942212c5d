"""The base of every modal: esc closes it, worker errors go to the app's handler."""

from __future__ import annotations

from textual.screen import ModalScreen
from textual.worker import Worker

from tui.base.view import AppView
from tui.common import keymap


class BaseModal(AppView, ModalScreen):
    """A modal: esc closes it (dismiss None); worker errors go to the app's handler."""

    BINDINGS = keymap.bindings("modal")

    def on_mount(self) -> None:
        self.stop_blinking()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.state.report_worker(event)

    def action_close(self) -> None:
        self.dismiss(None)
