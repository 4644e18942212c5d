"""Bulk Scan (N): choose a profile, start, watch job creation, then each host's progress.

The scans run in this app or are left to a worker (w switches); either way they are jobs in
the store, so this modal follows them from the store (every second) and, for this app's own
jobs, from the event hub in between.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from core.content.catalog import SHORT_NAME_TITLES, SHORT_NAMES
from core.domain.events import JobEvent
from core.domain.models import Host, Job, JobStatus
from core.jobs import queue
from tui import keymap
from tui.screens.base import BaseModal
from tui.widgets.cells import plain, progress_text
from tui.widgets.run_choice import RunChoice


class BulkScanModal(BaseModal):
    """Dismisses True when scans were started (they keep running after it closes)."""

    BINDINGS = keymap.bindings("bulk_scan")

    def __init__(self, hosts: list[Host]):
        super().__init__()
        self.hosts = hosts
        self.jobs: dict[str, Job] = {}  # job id -> its latest state
        self.started = False

    def compose(self) -> ComposeResult:
        names = ", ".join(h.name for h in self.hosts)
        with Vertical(classes="dialog bulk") as box:
            box.border_title = f"Bulk Scan ({len(self.hosts)})"
            yield Static(f"Hosts: {names}", classes="note", markup=False)
            yield Label("SCAP profile (each host gets the one for its own OS)")
            yield OptionList(*(Option(f"{SHORT_NAME_TITLES[s]}  ({s})", id=s) for s in SHORT_NAMES),
                             id="bulk-profile")
            yield RunChoice(id="run-choice")
            with Vertical(id="bulk-progress"):
                yield Label("Creating scans", id="creating-label")
                yield ProgressBar(total=len(self.hosts), show_eta=False, id="creating")
                with VerticalScroll(id="host-progress"):
                    for index, host in enumerate(self.hosts):
                        with Horizontal(classes="host-row", id=f"row-{index}"):
                            yield Label(host.name, classes="host-name", markup=False)
                            # a known total from the start: no indeterminate animation to
                            # redraw over a slow link while the scan waits its turn
                            yield ProgressBar(total=1, show_eta=False, id=f"bar-{index}")
                            yield Static("waiting" if host.os_id else "OS not detected: the scan detects it",
                                         classes="host-state", id=f"state-{index}")
            with Horizontal(classes="buttons"):
                yield Button("Start Scans (ctrl+s)", id="start", variant="primary", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#bulk-progress").display = False
        self.query_one("#bulk-profile", OptionList).highlighted = 0
        self.query_one("#bulk-profile").focus()
        self.app.jobs.events.subscribe(self, self._event)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("start", "toggle_runner"):
            return not self.started
        return True

    def action_toggle_runner(self) -> None:
        self.query_one(RunChoice).toggle()

    @on(OptionList.OptionSelected, "#bulk-profile")
    def _chosen(self) -> None:
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        else:
            self.action_close()

    def action_start(self) -> None:
        if self.started:
            return
        self.started = True
        options = self.query_one("#bulk-profile", OptionList)
        options.disabled = True
        self.query_one("#start", Button).disabled = True
        self.query_one("#bulk-progress").display = True
        self.query_one("#close", Button).focus()
        self.refresh_bindings()
        self.start(SHORT_NAMES[options.highlighted or 0], self.query_one(RunChoice).here)

    @work(group="start", exit_on_error=False)
    async def start(self, profile: str, here: bool) -> None:
        workspace = self.app.workspace
        wanted = await queue.scan_requests(workspace, [h.name for h in self.hosts], profile)
        for job in await self.app.jobs.scan(wanted, here):
            self.jobs[job.id] = job
            self._show(job)
        self.query_one("#creating", ProgressBar).update(progress=len(self.jobs))
        where = "in this app" if here else "for a worker (compliance-tui worker)"
        self.query_one("#creating-label", Label).update(f"Created {len(self.jobs)} scans, {where}")
        self.set_interval(1.0, self.poll)

    @work(group="poll", exclusive=True, exit_on_error=False)
    async def poll(self) -> None:
        """Jobs a worker runs send no events here: read their state from the store."""
        unfinished = [i for i, j in self.jobs.items() if not j.status.finished]
        for job_id in unfinished:
            self._show(await self.app.workspace.store.get_job(job_id))

    def action_close(self) -> None:
        self.dismiss(self.started)

    def _event(self, event: JobEvent) -> None:
        if event.job.id in self.jobs:
            self._show(event.job)

    def _show(self, job: Job) -> None:
        index = next((i for i, h in enumerate(self.hosts) if h.name == job.host_name), None)
        if index is None:
            return
        self.jobs[job.id] = job
        state = self.query_one(f"#state-{index}", Static)
        bar = self.query_one(f"#bar-{index}", ProgressBar)
        palette = self.app.palette
        if job.status is JobStatus.RUNNING:
            bar.update(total=job.progress_total, progress=job.progress_done)
            state.update(palette.text(progress_text(job.progress_done, job.progress_total), "text-primary"))
        elif job.status is JobStatus.COMPLETED:
            bar.update(total=job.progress_total or 1, progress=job.progress_total or 1)
            state.update(palette.text("completed: see Compliance (3)", "text-success"))
        elif job.status.finished:
            state.update(palette.text(f"{job.status.value}: {job.error or ''}", "text-error"))
            state.tooltip = plain(job.error) if job.error else None
        else:
            state.update(palette.text(f"{job.short_id} {job.status.value}", "foreground-muted"))
        finished = sum(1 for j in self.jobs.values() if j.status.finished)
        if self.jobs and finished == len(self.hosts):
            self.query_one("#creating-label", Label).update(
                f"All {len(self.hosts)} scans finished: see Compliance (3) for results")
