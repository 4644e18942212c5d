"""Statistic cards (the spec's summary cards) and the navigation bar."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from core.domain.models import Scan
from tui.common.nav import NAV
from tui.widgets.view import app_of

VARIANTS = ("-good", "-warn", "-bad", "-muted", "-info")


class StatCard(Static):
    """A bordered number with its label in the border; colour by variant class."""

    def __init__(self, label: str, *, id: str | None = None, classes: str | None = None):
        super().__init__("—", id=id, classes=classes)
        self.border_title = label

    def show(self, value: str, variant: str | None = None) -> None:
        self.update(Text(value))
        for name in VARIANTS:
            self.set_class(name == variant, name)



class NavBar(Static):
    """One line: the six screens with their number keys, the current one highlighted,
    and how many jobs this app is running."""

    def __init__(self, current: str, *, running: int = 0):
        super().__init__(id="nav", classes="themed")
        self.current = current
        self.running = running

    def on_mount(self) -> None:
        self._render_bar()

    def refresh_theme(self) -> None:
        self._render_bar()

    def set_running(self, running: int) -> None:
        if running != self.running:
            self.running = running
            self._render_bar()

    def _render_bar(self) -> None:
        palette = app_of(self).palette
        bar = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, mode, label in NAV:
            if mode == self.current:
                bar.append(f" {key} {label} ", style=palette.style("text-accent", bold=True) + Style(reverse=True))
            else:
                bar.append(f" {key}", style=palette.style("text-accent", bold=True))
                bar.append(f" {label} ")
        if self.running:
            bar.append(f"  ⟳ {self.running} job{'s' if self.running != 1 else ''}",
                       style=palette.style("text-primary", bold=True))
        self.update(bar)

    def on_click(self, event) -> None:
        offset = event.x
        position = 0
        for key, mode, label in NAV:
            width = len(label) + len(key) + 3
            if position <= offset < position + width:
                app_of(self).action_go(mode)
                return
            position += width


def failed_text(scan: Scan | None) -> str:
    return "—" if scan is None else str(scan.counts.get("fail", 0))
