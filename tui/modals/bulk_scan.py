"""Bulk Scan (N): choose a profile, start, watch scan creation, then each host's progress."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from core.content.catalog import SHORT_NAME_TITLES, SHORT_NAMES
from core.domain.models import Host, ScanStatus
from tui.screens.base import BaseModal
from tui.services.activity import ScanEvent
from tui.widgets.cells import progress_text


class BulkScanModal(BaseModal):
    """Dismisses True when scans were started (they keep running after it closes)."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+s", "start", "Start Scans"),
    ]

    def __init__(self, hosts: list[Host]):
        super().__init__()
        self.hosts = hosts
        self.batch: int | None = None
        self.created = 0
        self.finished = 0
        self.scan_hosts: dict[str, str] = {}  # scan id -> host name

    def compose(self) -> ComposeResult:
        names = ", ".join(h.name for h in self.hosts)
        with Vertical(classes="dialog bulk") as box:
            box.border_title = f"Bulk Scan ({len(self.hosts)})"
            yield Static(f"Hosts: {names}", classes="note")
            yield Label("SCAP profile (each host gets the one for its own OS)")
            yield OptionList(*(Option(f"{SHORT_NAME_TITLES[s]}  ({s})", id=s) for s in SHORT_NAMES),
                             id="bulk-profile")
            with Vertical(id="bulk-progress"):
                yield Label("Creating scans", id="creating-label")
                yield ProgressBar(total=len(self.hosts), show_eta=False, id="creating")
                with VerticalScroll(id="host-progress"):
                    for index, host in enumerate(self.hosts):
                        with Horizontal(classes="host-row", id=f"row-{index}"):
                            yield Label(host.name, classes="host-name")
                            # a known total from the start: no indeterminate animation to
                            # redraw over a slow link while the scan waits its turn
                            yield ProgressBar(total=1, show_eta=False, id=f"bar-{index}")
                            yield Static("waiting", classes="host-state", id=f"state-{index}")
            with Horizontal(classes="buttons"):
                yield Button("Start Scans (ctrl+s)", id="start", variant="primary", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#bulk-progress").display = False
        self.query_one("#bulk-profile", OptionList).highlighted = 0
        self.query_one("#bulk-profile").focus()
        self.app.activity.events.subscribe(self, self._event)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "start":
            return self.batch is None
        return True

    @on(OptionList.OptionSelected, "#bulk-profile")
    def _chosen(self) -> None:
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        else:
            self.action_close()

    def action_start(self) -> None:
        if self.batch is not None:
            return
        options = self.query_one("#bulk-profile", OptionList)
        profile = SHORT_NAMES[options.highlighted or 0]
        self.batch = self.app.activity.start(self.hosts, profile)
        options.disabled = True
        self.query_one("#start", Button).disabled = True
        self.query_one("#bulk-progress").display = True
        self.query_one("#close", Button).focus()
        self.refresh_bindings()

    def action_close(self) -> None:
        self.dismiss(self.batch is not None)

    def _index(self, host: str) -> int | None:
        return next((i for i, h in enumerate(self.hosts) if h.name == host), None)

    def _event(self, event: ScanEvent) -> None:
        if event.batch != self.batch:
            return
        index = self._index(event.host)
        if index is None:
            return
        state = self.query_one(f"#state-{index}", Static)
        bar = self.query_one(f"#bar-{index}", ProgressBar)
        palette = self.app.palette
        if event.kind == "created":
            self.created += 1
            self.scan_hosts[event.scan_id] = event.host
            self.query_one("#creating", ProgressBar).update(progress=self.created)
            self.query_one("#creating-label", Label).update(
                f"Creating scans: {self.created} / {len(self.hosts)}")
            state.update(palette.text(f"{event.scan_id[:8]} pending", "foreground-muted"))
        elif event.kind == "progress":
            bar.update(total=event.total, progress=event.done)
            state.update(palette.text(progress_text(event.done, event.total), "text-primary"))
        elif event.kind == "finished" and event.scan is not None:
            self.finished += 1
            scan = event.scan
            if scan.status is ScanStatus.COMPLETED:
                bar.update(total=scan.progress_total or 1, progress=scan.progress_total or 1)
                score = "—" if scan.score is None else f"{scan.score:.1f}%"
                state.update(palette.text(f"completed {score}", "text-success"))
            else:
                state.update(palette.text(f"failed: {scan.error_message or ''}", "text-error"))
                state.tooltip = scan.error_message
            if self.finished == len(self.hosts):
                self.query_one("#creating-label", Label).update(
                    f"All {len(self.hosts)} scans finished: see Compliance (3) for results")
