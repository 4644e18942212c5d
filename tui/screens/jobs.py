"""Jobs: the queue every scan runs through, as the spec's Jobs page.

Every job of the store, whichever process runs it, newest first, a page at a time (the
range shows where you are); status and host filters; live progress of this app's own jobs
and a reload every 10 s while anything is unfinished; details with the whole output log;
cancel and priority from the keyboard.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from core.domain.events import JobEvent
from core.domain.models import Job, JobStatus
from core.jobs.worker import worker_alive
from core.views.summaries import JOBS_PAGE, JobsPage, jobs_page
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.modals.confirm import ConfirmModal
from tui.modals.job_detail import JobDetailModal
from tui.widgets.cards import NavBar
from tui.widgets.cells import (
    DASH,
    day_time,
    job_status,
    plain,
    running_rule,
    safe,
    short_profile,
)
from tui.widgets.chip import Chip
from tui.widgets.keyed_table import Column, KeyedTable

STATUSES = [("all", "all")] + [(s.value, s.value) for s in JobStatus]


class JobsScreen(BaseScreen):
    MODE = "jobs"
    MAIN = "jobs"
    BINDINGS = keymap.bindings("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.page: JobsPage | None = None
        self.page_start = 0
        self.shown: dict[str, Job] = {}

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Horizontal(classes="toolbar"):
            yield Chip("s", "Status", STATUSES, "all", id="job-status")
            yield Chip("h", "Host", [("all", "all")], "all", id="job-host")
            yield Static(id="job-range")
        yield KeyedTable([
            Column("host", "Host", None, min_width=8, flex=2),
            Column("kind", "Kind / Profile", None, min_width=13, flex=3),
            Column("status", "Status", 9),
            Column("duration", "Duration", 8, "right"),
            Column("started", "Started", 11),
            Column("finished", "Completed", 11),
            Column("output", "Output", None, min_width=8, flex=4),
        ], empty="no jobs yet: a scan started anywhere becomes a job here", id="jobs")
        yield Static(id="job-detail", classes="detail")
        yield Footer(compact=True, show_command_palette=False)

    # ---------------------------------------------------------------- loading

    def _filter(self, chip: str) -> str | None:
        value = self.query_one(f"#{chip}", Chip).value
        return None if value == "all" else value

    def read(self) -> Read:
        return partial(jobs_page, self.workspace.store, self._filter("job-status"), self._filter("job-host"),
                       self.page_start)

    def show(self, page: JobsPage) -> bool:
        self.page = page
        self.page_start = page.offset
        self.shown = {j.id: j for j in page.jobs}
        hosts = self.query_one("#job-host", Chip)
        hosts.options = [("all", "all")] + [(h, h) for h in page.hosts]
        if hosts.value not in ("all", *page.hosts):
            hosts.value = "all"
        table = self.query_one("#jobs", KeyedTable)
        filters = [f"{name} {value}" for name, value in (("status", self._filter("job-status")),
                                                          ("host", self._filter("job-host"))) if value]
        table.empty_text = (f"no jobs match {', '.join(filters)} (esc clears)" if filters
                            else "no jobs yet: a scan started anywhere becomes a job here")
        table.set_rows((j.id, self._row(j)) for j in page.jobs)
        self._show_range(page)
        self._show_detail()
        return page.active > 0

    def _row(self, job: Job) -> tuple:
        palette = self.palette
        job = self.jobs.live.get(job.id, job)
        if job.status is JobStatus.RUNNING:
            now = running_rule(job)
            output = palette.text(job.progress_line + (f" · {now}" if now else ""), "text-primary")
        elif job.error:
            output = palette.text(job.error, "text-error")
        else:
            last = job.output.rstrip().rpartition("\n")[2]  # the list carries the log's end only
            output = plain(last[9:] if last else DASH)
        kind = f"{job.kind} · {short_profile(job.profile)}" if job.profile else job.kind
        duration = DASH if job.duration_s is None else f"{job.duration_s:.0f}"
        return (plain(job.host_name), plain(kind), job_status(palette, job), duration,
                day_time(job.started_at, self.state.clock()), day_time(job.finished_at, self.state.clock()), output)

    def _show_range(self, page: JobsPage) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        if page.total:
            line.append(f"{page.offset + 1}–{page.offset + len(page.jobs)} / {page.total}")
            if page.total > JOBS_PAGE:
                line.append_text(self.palette.muted("  [ ] pages"))
        waiting = page.counts.get("pending", 0)
        if waiting and not worker_alive(page.worker_seen):
            line.append_text(self.palette.text(
                f"  {waiting} pending, no worker seen: start compliance-tui worker, or W runs them here",
                "text-warning"))
        if self.jobs.runner and self.jobs.runner.take_pending:
            line.append_text(self.palette.text("  this app runs the queue (W stops)", "text-accent"))
        self.query_one("#job-range", Static).update(safe(line))

    # ---------------------------------------------------------------- selection

    def _current(self) -> Job | None:
        key = self.query_one("#jobs", KeyedTable).cursor_key
        return self.jobs.live.get(key) or self.shown.get(key) if key else None

    @on(KeyedTable.Highlighted, "#jobs")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        job = self._current()
        detail = self.query_one("#job-detail", Static)
        if job is None:
            detail.update("")
            return
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{job.short_id} · {job.host_name} · {job.kind} · priority {job.priority}")
        line.append(f" · attempt {job.attempts}" if job.attempts > 1 else "")
        if job.lease_owner:
            line.append(f" · on {job.lease_owner}")
        if job.cancel_requested and not job.status.finished:
            line.append_text(self.palette.text(" · cancel requested", "text-warning"))
        if job.error:
            line.append_text(self.palette.text(f" · {job.error}", "text-error"))
        elif job.result and "fixed" in job.result:
            found = job.result
            line.append(f" · fixed {len(found['fixed'])}, still failing {len(found['still_failing'])}, "
                        f"without fix {len(found['without_fix'])}")
        detail.update(safe(line))

    # ---------------------------------------------------------------- actions

    def action_cycle(self, chip: str) -> None:
        self.query_one(f"#{chip}", Chip).cycle()

    def clear_filters(self) -> bool:
        chips = [self.query_one(f"#{chip}", Chip) for chip in ("job-status", "job-host")]
        if all(chip.value == "all" for chip in chips):
            return False
        with self.prevent(Chip.Changed):
            for chip in chips:
                chip.value = "all"
        self.page_start = 0
        self.reload()
        return True

    @on(Chip.Changed)
    def _filters_changed(self) -> None:
        self.page_start = 0
        self.reload()

    def action_page(self, step: int) -> None:
        if self.page is None:
            return
        offset = self.page_start + step * JOBS_PAGE
        if 0 <= offset < self.page.total:
            self.page_start = offset
            self.reload()

    def action_details(self) -> None:
        job = self._current()
        if job is not None:
            self.app.push_screen(JobDetailModal(job.id), lambda _changed: self.reload())

    @on(KeyedTable.Chosen, "#jobs")
    def _chosen(self) -> None:
        self.action_details()

    def action_cancel(self) -> None:
        job = self._current()
        if job is None:
            return
        if job.status.finished:
            self.notify(f"job {job.short_id} has {job.status.value} already: nothing to cancel")
            return
        what = "stop it on the target" if job.status is JobStatus.RUNNING else "take it out of the queue"

        def answered(yes: bool | None) -> None:
            if yes:
                self.cancel(job.id)

        self.app.push_screen(ConfirmModal(
            f"Cancel job {job.short_id} ({job.kind} of {job.host_name}, {job.status.value})? This will {what}.",
            confirm="Stop job", refuse="Keep it", title="Cancel job", danger=True), answered)

    @work(group="job-action", exit_on_error=False)
    async def cancel(self, job_id: str) -> None:
        job = await self.jobs.cancel(job_id)
        self.notify(f"job {job.short_id}: " + ("cancelled" if job.status.finished else "asked to stop"))
        self.reload()

    def action_priority(self, step: int) -> None:
        job = self._current()
        if job is not None:
            self.set_priority(job.id, max(1, min(10, job.priority + step)))

    @work(group="job-action", exit_on_error=False)
    async def set_priority(self, job_id: str, priority: int) -> None:
        job = await self.workspace.store.set_job_priority(job_id, priority)
        self.notify(f"job {job.short_id}: priority {job.priority}", timeout=3)
        self.reload()

    def action_audit(self) -> None:
        from tui.screens.audit import AuditScreen  # loads core.audit only when opened

        self.app.push_screen(AuditScreen())

    def action_work_here(self) -> None:
        runner = self.jobs.runner
        if runner is None:  # the app starts it as it mounts
            return
        runner.take_pending = not runner.take_pending
        runner.wake()
        self.notify("this app now runs pending jobs too (quitting cancels what it runs)"
                    if runner.take_pending else "this app runs only its own jobs again")
        self.reload()

    def on_job_event(self, event: JobEvent) -> None:
        if self.page is None:
            return
        if event.kind == "progress" and event.job.id in self.shown:
            self.query_one("#jobs", KeyedTable).update_row(event.job.id, self._row(event.job))
            return
        if event.kind != "progress":
            self.reload()
