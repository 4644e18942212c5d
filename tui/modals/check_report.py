"""The result of Check: reachable, host key, authenticated, oscap, sudo, the OS."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.base.modal import BaseModal
from tui.common import keymap
from tui.widgets.cells import plain


class CheckReportModal(BaseModal):
    BINDINGS = keymap.bindings("check")

    def __init__(self, report):  # core.hosts.Readiness
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        palette, report = self.palette, self.report
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column()
        for label, found, ok in report.steps():
            table.add_row(label, palette.muted(found) if ok is None else
                          palette.text(found, "text-success" if ok else "text-error", bold=True))
        table.add_row("oscap version", plain(report.oscap_version or "—"))  # what the host said: plain
        table.add_row("OS", plain(report.os or "—"))
        with Vertical(classes="dialog check") as box:
            box.border_title = plain(f"Check {report.host}: {'ready' if report.ready else 'not ready'}")
            yield Static(table)
            if report.error:
                yield Static(palette.text(report.error, "text-error"), classes="error-line")
                if "hosts trust" in report.error:
                    yield Static("Here: close this, then press t on the host to review and trust its key.",
                                 classes="note")
            yield Static("esc or enter closes", classes="hint")
