"""Where new scans run: in this app, or left in the queue for `compliance-tui worker`.

Starts on "a worker" when one was alive in the last minute, else on "this app"; w switches.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static

from tui.widgets.view import app_of


class RunChoice(Static):
    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, classes="run-choice")
        self.here = True

    def on_mount(self) -> None:
        self._draw()
        self.guess()

    @work(group="run-choice", exit_on_error=False)
    async def guess(self) -> None:
        if await app_of(self).jobs.worker_alive():
            self.here = False
            self._draw()

    def toggle(self) -> None:
        self.here = not self.here
        self._draw()

    def _draw(self) -> None:
        palette = app_of(self).palette
        line = Text("Run: ")
        for here, label in ((True, "in this app"), (False, "by a worker (compliance-tui worker)")):
            mark = "● " if here == self.here else "○ "
            line.append_text(palette.text(mark + label, "text-accent" if here == self.here else "foreground-muted",
                                          bold=here == self.here))
            line.append("  ")
        line.append_text(palette.muted("w switches"))
        self.update(line)
