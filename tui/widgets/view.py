"""What of the app its widgets use, typed: a widget's self.app is a Textual App, which has no
palette. ComplianceApp has all of it; tui/base/view.py's AppState, what screens and modals
use, extends it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui.widgets.cells import Palette


class WorkerCheck(Protocol):
    async def worker_alive(self) -> bool:
        """True when a `compliance-tui worker` was alive in the last minute."""
        ...


class WidgetApp(Protocol):
    """What of ComplianceApp its widgets use."""

    @property
    def palette(self) -> Palette: ...

    @property
    def jobs(self) -> WorkerCheck: ...

    def action_go(self, mode: str) -> None: ...


def app_of(widget: DOMNode) -> WidgetApp:
    """The running app of this widget, as its widgets see it."""
    return cast("WidgetApp", widget.app)
