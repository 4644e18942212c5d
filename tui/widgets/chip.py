"""A one-line filter control: `f Result: fail`. Its key (or a click) steps to the next value.

Lighter than a Select (no overlay to build), so a screen with several mounts fast, and it
shows its own key, so the footer need not.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from core.domain.text import neutralise
from tui.widgets.view import app_of


class Chip(Static):
    class Changed(Message):
        def __init__(self, chip: "Chip", value: str):
            super().__init__()
            self.chip, self.value = chip, value

        @property
        def control(self) -> "Chip":
            return self.chip

    def __init__(self, key: str, label: str, options: list[tuple[str, str]], value: str, *,
                 id: str | None = None):
        super().__init__(id=id, classes="chip themed")
        self.key, self.label, self.options = key, label, options
        self._value = value

    @property
    def value(self) -> str:
        return self._value

    @value.setter
    def value(self, value: str) -> None:
        if value not in [v for _text, v in self.options]:
            raise ValueError(f"{value!r} is not one of {self.label}'s values")
        if value != self._value:
            self._value = value
            self._show()
            self.post_message(self.Changed(self, value))

    def on_mount(self) -> None:
        self._show()

    def refresh_theme(self) -> None:
        self._show()

    def cycle(self) -> None:
        values = [v for _text, v in self.options]
        self.value = values[(values.index(self._value) + 1) % len(values)]

    def on_click(self) -> None:
        self.cycle()

    def _show(self) -> None:
        shown = next(text for text, v in self.options if v == self._value)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(self.key, style=app_of(self).palette.style("text-accent", bold=True))
        line.append(f" {self.label}: ")
        line.append(neutralise(str(shown)), style="bold")  # e.g. a host name
        self.update(line)
