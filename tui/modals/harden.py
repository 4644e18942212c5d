"""Harden (H on Hosts): choose the profile; every rule that failed in each host's latest
completed scan of it is fixed, after the same preview and confirmation as Quick Fix."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from core.content.catalog import SHORT_NAME_TITLES, SHORT_NAMES
from core.domain.errors import OperatorError
from core.domain.models import Host
from core.remediation import planning
from tui.base.modal import BaseModal
from tui.modals.fix_preview import FixPreviewModal


class HardenModal(BaseModal):
    def __init__(self, hosts: list[Host]):
        super().__init__()
        self.hosts = hosts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog harden") as box:
            box.border_title = f"Harden ({len(self.hosts)})"
            yield Static(f"Hosts: {', '.join(h.name for h in self.hosts)}", classes="note", markup=False)
            yield Label("Fix every rule that failed in each host's latest scan of")
            yield OptionList(*(Option(f"{SHORT_NAME_TITLES[s]}  ({s})", id=s) for s in SHORT_NAMES),
                             id="harden-profile")
            yield Static(id="harden-note", classes="note")

    def on_mount(self) -> None:
        self.query_one("#harden-profile", OptionList).highlighted = 0
        self.query_one("#harden-profile").focus()

    @on(OptionList.OptionSelected, "#harden-profile")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#harden-note", Static).update("reading each host's failed rules and their fixes…")
        self.plan(str(event.option.id))

    @work(group="harden", exclusive=True, exit_on_error=False)
    async def plan(self, profile: str) -> None:
        requests, problems = [], []
        for host in self.hosts:
            try:
                requests.append(await planning.harden(self.workspace, host.name, profile))
            except OperatorError as exc:
                problems.append(str(exc))
        for problem in problems:
            self.notify(problem, severity="warning", timeout=12)
        if not requests:
            self.query_one("#harden-note", Static).update("nothing to harden (see the notices)")
            return
        self.app.push_screen(FixPreviewModal(requests, f"Harden ({len(requests)}): {SHORT_NAME_TITLES[profile]}"),
                             self.dismiss)
