"""The last report or export this screen wrote, and the scp line that fetches it: on a line
of its own, because a notice disappears and over SSH the path is what one needs next."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from tui.widgets.cells import safe
from tui.widgets.view import app_of


class LastFile(Static):
    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, classes="last-file")
        self.path: Path | None = None

    def on_mount(self) -> None:
        self.display = False

    def show(self, path: Path) -> None:
        """The name, then the scp line whole (it holds the full path): folded onto a second line
        where it is longer than the screen is wide, never cut, since it is what one copies."""
        from core.results.handover import copy_hint  # off the startup path, as tui/services/files.py

        self.path = path
        palette = app_of(self).palette
        line = Text(overflow="fold")
        line.append_text(palette.muted("last file "))
        line.append(path.name)
        line.append_text(palette.muted("  ·  copy it with: "))
        line.append(copy_hint(path))
        self.update(safe(line))  # names carry host names: control characters shown, never run
        self.tooltip = Text(copy_hint(path))
        self.display = True
