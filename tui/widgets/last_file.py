"""The last report or export this screen wrote, and the scp line that fetches it: on a line
of its own, because a notice disappears and over SSH the path is what one needs next."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from tui.services.files import copy_hint


class LastFile(Static):
    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, classes="last-file")
        self.path: Path | None = None

    def on_mount(self) -> None:
        self.display = False

    def show(self, path: Path) -> None:
        self.path = path
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append_text(self.app.palette.muted("last file "))
        line.append(str(path))
        line.append_text(self.app.palette.muted(f"  ·  {copy_hint(path)}"))
        self.update(line)
        self.tooltip = Text(copy_hint(path))
        self.display = True
