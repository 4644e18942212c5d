"""A checkbox whose state reads in the text itself: `▐X▌` ticked, `▐ ▌` not (Textual's
checkbox draws the same `X` either way, told apart by a colour that some themes barely change)."""

from __future__ import annotations

from textual.widgets import Checkbox


class Tick(Checkbox):
    # Checkbox's class attribute, read-only here: the inner follows the value.
    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # noqa: N802 (Textual's name for it)
        return "X" if self.value else " "
