"""Bulk Scan (N): choose a profile, start, watch job creation, then each host's progress.

The scans run in this app or are left to a worker (w switches); either way they are jobs in
the store, so this modal follows them from the store (every second) and, for this app's own
jobs, from the event hub in between. As wide as the terminal allows; once started, one line
per host (bar, rules, state; an error cut to the line) in a list that scrolls with j/k, the
arrows and the page keys. The highlighted host's whole error shows under the list, and enter
opens its job. A bar is text drawn from the job's state: it stops where a scan ended.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, OptionList, ProgressBar, Static

from core.content.frameworks import profile_name
from core.content.offer import SharedProfile, shared_profiles
from core.domain.events import JobEvent
from core.domain.models import Host, Job, JobStatus
from core.jobs import queue
from core.views.summaries import profile_title
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.modals.job_detail import JobDetailModal
from tui.widgets.cells import STATUS_VARS, plain, progress_text, running_rule
from tui.widgets.keyed_table import Column, KeyedTable
from tui.widgets.profile_options import first_choice, grouped_options
from tui.widgets.run_choice import RunChoice

BAR = 16  # columns of a host's bar
TRACK = "panel"  # the colour of a bar's part still to go
FRAME = 11  # rows around the host list once started: border, label, bar, detail, buttons


class BulkScanModal(BaseModal):
    """Dismisses True when scans were started (they keep running after it closes)."""

    BINDINGS = keymap.bindings("bulk_scan")

    def __init__(self, hosts: list[Host]):
        super().__init__()
        self.hosts = hosts
        self.followed: dict[str, Job] = {}  # the jobs this modal follows: job id -> its latest state
        self.started = False
        self.titles: dict[str, str] = {}  # profile name -> its title, as the list shows it

    def compose(self) -> ComposeResult:
        names = ", ".join(h.name for h in self.hosts)
        with Vertical(classes="dialog bulk") as box:
            box.border_title = f"Bulk Scan ({len(self.hosts)})"
            with Vertical(id="bulk-choose"):
                yield Static(f"Hosts: {names}", classes="note", markup=False)
                yield Label("SCAP profile (each host gets the one for its own OS)")
                yield OptionList(*grouped_options(self._items(shared_profiles([], []), counted=False)),
                                 id="bulk-profile")
                yield RunChoice(id="run-choice")
            with Vertical(id="bulk-progress"):
                yield Label("Creating scans", id="creating-label")
                yield ProgressBar(total=len(self.hosts), show_eta=False, id="creating")
                yield KeyedTable([
                    Column("host", "Host", None, min_width=10, flex=2),
                    Column("bar", "Progress", BAR),
                    Column("rules", "Rules", 11, "right"),
                    Column("state", "State", None, min_width=16, flex=3),
                ], empty="no hosts", id="bulk-hosts")
                yield Static(id="bulk-detail")
            with Horizontal(classes="buttons"):
                yield Button("Start Scans (ctrl+s)", id="start", variant="primary", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#bulk-progress").display = False
        options = self.query_one("#bulk-profile", OptionList)
        options.highlighted = first_choice(options.options)
        options.focus()
        self.jobs.events.subscribe(self, self._event)
        self.load_profiles()

    def _items(self, shared: list[SharedProfile], counted: bool = True) -> list[tuple]:
        """(framework, id, prompt) per profile: its title, its name, how many of the hosts offer it."""
        self.titles.update((p.name, p.title) for p in shared)
        total = len(self.hosts)
        return [(p.framework, p.name, f"{p.title}  ({profile_name(p.name)}"
                 + (f", {p.hosts} of {total} hosts)" if counted else ")")) for p in shared]

    @work(group="profiles", exit_on_error=False)
    async def load_profiles(self) -> None:
        """Every profile the hosts' content offers (by their detected OS), beyond the CIS pair."""
        oses = [h.os_info for h in self.hosts]
        self._show_profiles(shared_profiles(oses, await self.state.datastreams()))

    def _show_profiles(self, shared: list[SharedProfile]) -> None:
        options = self.query_one("#bulk-profile", OptionList)
        highlighted = options.highlighted
        was = options.get_option_at_index(highlighted).id if highlighted is not None else None
        options.clear_options()
        options.add_options(grouped_options(self._items(shared)))
        ids = [option.id for option in options.options]
        options.highlighted = ids.index(was) if was in ids else first_choice(options.options)

    def on_resize(self) -> None:
        self.query_one("#bulk-hosts").styles.max_height = max(3, self.size.height - FRAME)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("start", "toggle_runner"):
            return not self.started
        if action == "details":
            return self.started
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

    # ---------------------------------------------------------------- starting

    def action_start(self) -> None:
        if self.started:
            return
        options = self.query_one("#bulk-profile", OptionList)
        highlighted = options.highlighted if options.highlighted is not None else first_choice(options.options)
        profile = options.get_option_at_index(highlighted or 0).id or ""
        here = self.query_one(RunChoice).here
        self.show_started(profile)
        self.start(profile, here)

    def show_started(self, profile: str) -> None:
        """From the profile choice to the hosts' progress."""
        self.started = True
        self.query_one("#bulk-choose").display = False
        self.query_one("#start", Button).display = False
        self.query_one("#bulk-progress").display = True
        self.query_one("#creating-label", Label).update(plain(f"{self._title(profile)}: creating scans"))
        table = self.query_one("#bulk-hosts", KeyedTable)
        table.set_rows((h.name, self._row(h)) for h in self.hosts)
        table.focus()
        self.refresh_bindings()

    def _title(self, profile: str) -> str:
        return self.titles.get(profile) or profile_title(profile)

    @work(group="start", exit_on_error=False)
    async def start(self, profile: str, here: bool) -> None:
        wanted = await queue.scan_requests(self.workspace, [h.name for h in self.hosts], profile)
        self.follow(await self.jobs.scan(wanted, here), profile, here)

    def follow(self, jobs: list[Job], profile: str, here: bool) -> None:
        """Show these jobs' progress from now on (events, and the store every second)."""
        for job in jobs:
            self.followed[job.id] = job
        self.query_one("#creating", ProgressBar).update(progress=len(self.followed))
        where = "in this app" if here else "for a worker (compliance-tui worker)"
        self.query_one("#creating-label", Label).update(
            plain(f"{self._title(profile)}: created {len(self.followed)} scans, {where}"))
        self._redraw()
        self.set_interval(1.0, self.poll)

    @work(group="poll", exclusive=True, exit_on_error=False)
    async def poll(self) -> None:
        """Jobs a worker runs send no events here: read their state from the store."""
        unfinished = [i for i, j in self.followed.items() if not j.status.finished]
        for job_id in unfinished:
            self._show(await self.workspace.store.get_job(job_id))

    def _event(self, event: JobEvent) -> None:
        if event.job.id in self.followed:
            self._show(event.job)

    # ---------------------------------------------------------------- showing

    def _job_of(self, host: str) -> Job | None:
        return next((j for j in self.followed.values() if j.host_name == host), None)

    def _show(self, job: Job) -> None:
        self.followed[job.id] = job
        host = next((h for h in self.hosts if h.name == job.host_name), None)
        if host is not None:
            self.query_one("#bulk-hosts", KeyedTable).update_row(host.name, self._row(host))
        self._show_finished()
        self._show_detail()

    def _redraw(self) -> None:
        self.query_one("#bulk-hosts", KeyedTable).set_rows((h.name, self._row(h)) for h in self.hosts)
        self._show_finished()
        self._show_detail()

    def _row(self, host: Host) -> tuple:
        palette, job = self.palette, self._job_of(host.name)
        if job is None:
            waiting = "waiting" if host.os_id else "OS not detected: the scan detects it"
            return plain(host.name), self._bar(0, None, "pending"), "", palette.muted(waiting)
        rules = progress_text(job.progress_done, job.progress_total) if job.progress_done else ""
        return plain(host.name), self._bar(job.progress_done, job.progress_total, job.status.value), rules, \
            self._line_state(job)

    def _state(self, job: Job) -> Text:
        palette = self.palette
        if job.status is JobStatus.RUNNING:
            now = running_rule(job)
            return palette.text("running" + (f" · {now}" if now else ""), "text-primary")
        if job.status is JobStatus.COMPLETED:
            return palette.text("completed: see Compliance (3)", "text-success")
        if job.status.finished:
            return palette.text(f"{job.status.value}: {job.error or ''}", STATUS_VARS[job.status.value])
        return palette.muted(f"{job.short_id} {job.status.value}")

    def _line_state(self, job: Job) -> Text:
        """The state on the host's own line: short, and an error without the host's name it
        starts with (the line names the host)."""
        if job.status is JobStatus.COMPLETED:
            return self.palette.text("completed", "text-success")
        if job.error and job.status.finished:
            error = job.error.removeprefix(job.host_name).removeprefix(":").strip()
            return self.palette.text(f"{job.status.value}: {error}", STATUS_VARS[job.status.value])
        return self._state(job)

    def _bar(self, done: int, total: int | None, status: str) -> Text:
        """A bar that shows where the scan is, or where it ended (a completed one is full)."""
        palette = self.palette
        if status == "completed":
            filled = BAR
        else:
            filled = round(BAR * min(done, total) / total) if total else 0
        variable = "text-success" if status == "completed" else STATUS_VARS.get(status, "text-primary")
        bar = Text(end="")
        bar.append("━" * filled, palette.style(variable))
        bar.append("━" * (BAR - filled), palette.style(TRACK))
        return bar

    def _show_finished(self) -> None:
        finished = [j for j in self.followed.values() if j.status.finished]
        if not self.followed or len(finished) < len(self.hosts):
            return
        counts = {status: sum(1 for j in finished if j.status.value == status)
                  for status in ("completed", "failed", "cancelled")}
        summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        self.query_one("#creating-label", Label).update(
            f"All {len(self.hosts)} scans finished ({summary}): see Compliance (3) for results")

    @on(KeyedTable.Highlighted, "#bulk-hosts")
    def _show_detail(self) -> None:
        """The highlighted host's whole state (a long error in full), and what enter does."""
        key = self.query_one("#bulk-hosts", KeyedTable).cursor_key
        job = self._job_of(key) if key else None
        detail = Text(no_wrap=False, overflow="ellipsis")
        if job is not None:  # the error names the host (the highlighted line does too)
            detail.append_text(self._state(job))
            detail.append_text(self.palette.muted("  (enter: its job and output log)"))
        self.query_one("#bulk-detail", Static).update(detail)

    # ---------------------------------------------------------------- keys

    def action_details(self) -> None:
        key = self.query_one("#bulk-hosts", KeyedTable).cursor_key
        job = self._job_of(key) if key else None
        if job is None:
            self.notify("no scan of this host yet: its job is being created")
            return
        self.app.push_screen(JobDetailModal(job.id))

    @on(KeyedTable.Chosen, "#bulk-hosts")
    def _chosen_host(self) -> None:
        self.action_details()

    def action_close(self) -> None:
        self.dismiss(self.started)
