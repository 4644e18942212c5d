"""A message that asks nothing: read it, close it (esc or enter)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.base.modal import BaseModal
from tui.common import keymap


class MessageModal(BaseModal):
    BINDINGS = keymap.bindings("check")

    def __init__(self, text: str, *, title: str, danger: bool = False):
        super().__init__()
        self.text, self.title_text, self.danger = text, title, danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm" + (" -danger" if self.danger else "")) as box:
            box.border_title = self.title_text
            style = self.palette.style("text-error") if self.danger else ""
            yield Static(Text(self.text, style=style), classes="question")
            yield Static("esc or enter closes", classes="hint")
