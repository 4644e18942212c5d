"""A screen for a feature of a later issue: says so plainly and shows nothing made up."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Static

from tui.base.screen import BaseScreen
from tui.widgets.cards import NavBar


class NotYetScreen(BaseScreen):
    TEXT = ""
    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Vertical(classes="not-yet"):
            yield Static(self.TITLE_TEXT, classes="not-yet-title")
            yield Static(self.TEXT, classes="not-yet-text")
        yield Footer(compact=True, show_command_palette=False)

