"""A checkbox whose state reads in the text itself: `▐X▌` ticked, `▐ ▌` not (Textual's
checkbox draws the same `X` either way, told apart by a colour that some themes barely change)."""

from __future__ import annotations

from textual.widgets import Checkbox


class Tick(Checkbox):
    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 (Textual's name for it)
        return "X" if self.value else " "
