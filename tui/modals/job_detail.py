"""One job: every field, the error in a red box, and the whole output log (plain text, line
breaks kept, scrolls both ways). Re-read every 2 s while the job is unfinished; the progress of
this app's own job comes from its events in between, as the Jobs list shows it."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from core.domain.events import JobEvent
from core.domain.models import Job, JobStatus
from core.views.summaries import profile_title
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.modals.confirm import ConfirmModal
from tui.modals.rollback import RollbackModal
from tui.widgets.cells import DASH, job_status, plain, running_rule, short_time

LIVE_EVERY = 2.0  # seconds


class JobDetailModal(BaseModal):
    """Dismisses True when the job was changed here (cancelled, priority)."""

    BINDINGS = keymap.bindings("job_detail")

    class Loaded(Message):
        def __init__(self, job: Job):
            super().__init__()
            self.job = job

    def __init__(self, job_id: str):
        super().__init__()
        self.job_id = job_id
        self.job: Job | None = None
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog job") as box:
            box.border_title = "Job"
            yield Static(id="job-fields")
            yield Static(id="job-error", classes="error-box")
            yield Static(id="job-result")
            with VerticalScroll(id="job-log-scroll"):
                yield Static(id="job-log")
            yield Static("ctrl+k cancel · + - priority · R roll back · j/k scroll · G end · esc closes",
                         classes="hint")

    def on_mount(self) -> None:
        self.query_one("#job-error").display = False
        self.load()
        self.query_one("#job-log-scroll").focus()
        self.jobs.events.subscribe(self, self._job_event)

    def _job_event(self, event: JobEvent) -> None:
        if event.job.id != self.job_id or self.job is None or self.job.status.finished:
            return
        if event.kind == "progress":
            self._show_fields(self._live(self.job))
        else:
            self.load()

    def _live(self, job: Job) -> Job:
        """This app's own unfinished job with its latest progress (the hub's, newer than the
        store's last write): the numbers the Jobs list shows."""
        live = self.jobs.live.get(job.id)
        if live is None or job.status.finished:
            return job
        return replace(job, progress_done=live.progress_done, progress_total=live.progress_total,
                       current=live.current, current_since=live.current_since, scan_id=live.scan_id or job.scan_id)

    @work(group="job", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        self.post_message(self.Loaded(await self.workspace.store.get_job(self.job_id)))

    def on_job_detail_modal_loaded(self, message: Loaded) -> None:
        job = self.job = message.job
        self._show_fields(self._live(job))
        result = self._result(job)
        self.query_one("#job-result", Static).update(result)
        self.query_one("#job-result").display = bool(result.plain)  # no blank lines above the log
        error = self.query_one("#job-error", Static)
        error.display = bool(job.error)
        error.update(plain(job.error or ""))
        scroll = self.query_one("#job-log-scroll", VerticalScroll)
        at_end = scroll.scroll_y >= scroll.max_scroll_y - 1
        self.query_one("#job-log", Static).update(plain(job.output.rstrip() or "(no output yet)", no_wrap=True))
        if at_end and not job.status.finished:
            scroll.call_after_refresh(scroll.scroll_end, animate=False)
        if not job.status.finished:
            self.set_timer(LIVE_EVERY, self.load)

    def _show_fields(self, job: Job) -> None:
        palette = self.palette
        label = palette.style("text-accent", bold=True)
        fields = Table.grid(padding=(0, 1))  # two pairs a line: the log keeps room at 80x24
        for _ in range(2):
            fields.add_column(style=label, no_wrap=True, min_width=9)
            fields.add_column(no_wrap=True, ratio=1)
        ids = Table.grid(padding=(0, 1))
        ids.add_column(style=label, no_wrap=True, min_width=9)
        ids.add_column(no_wrap=True)
        duration = DASH if job.duration_s is None else f"{job.duration_s:.1f} s"
        now = running_rule(job) if job.status is JobStatus.RUNNING else ""
        progress = job.progress_line + (f" · {now}" if now else "")
        pairs = [
            ("Host", plain(job.host_name)),
            ("Kind", plain(f"{job.kind} · {profile_title(job.profile)}" if job.profile else job.kind)),
            ("Status", job_status(palette, job)), ("Priority", Text(str(job.priority))),
            ("Created", Text(short_time(job.created_at))), ("Started", Text(short_time(job.started_at))),
            ("Completed", Text(short_time(job.finished_at))), ("Duration", Text(duration)),
            ("Attempts", Text(str(job.attempts))), ("Progress", plain(progress)),
        ]
        for left, right in zip(pairs[::2], pairs[1::2]):
            fields.add_row(*left, *right)
        for name, value in (("Job", job.id), ("Scan", job.scan_id), ("Worker", job.lease_owner)):
            ids.add_row(name, plain(value or DASH))
        self.query_one("#job-fields", Static).update(Group(ids, fields))

    def _result(self, job: Job) -> Text:
        """A hardening job: fixed / still failing / without fix, each rule before and after, its
        /etc archive and a canary's outcome; a rollback: what it restored, what fails again."""
        found = job.result or {}
        if "rules" not in found:
            return Text("")
        palette = self.palette
        if "rollback_of" in found:
            head = (f"rolled back job {str(found['rollback_of'])[:8]}: {len(found.get('restored_files', []))} "
                    f"file(s) restored, {len(found.get('failing_again', []))} rule(s) fail again")
        else:
            head = (f"fixed {len(found.get('fixed', []))}, still failing {len(found.get('still_failing', []))}, "
                    f"without fix {len(found.get('without_fix', []))}")
        text = Text(head, style="bold")
        archive = found.get("archive") or {}
        if archive.get("state") == "kept" and "rollback_of" not in found:
            text.append_text(palette.muted(f"\n  /etc archive kept until {short_time(archive.get('keep_until'))}: "
                                           "R rolls this job back"))
        elif archive.get("state"):
            text.append_text(palette.muted(f"\n  /etc archive: {archive['state']}"))
        if found.get("canary"):
            text.append_text(palette.muted(f"\n  canary {found['canary']}: {len(found.get('followers', []))} "
                                           "host(s) released"))
        for rule, outcome in found["rules"].items():
            text.append(f"\n  {rule.rpartition('_rule_')[2]}: {outcome['before']} → ")
            text.append_text(palette.result(outcome["after"]))
        return text

    def action_rollback(self) -> None:
        if self.job is None or self.job.kind != "harden":
            self.notify("only a hardening job (Quick Fix, Harden) can be rolled back")
            return
        self.app.push_screen(RollbackModal(self.job_id), lambda job: job and self.dismiss(True))

    def action_close(self) -> None:
        self.dismiss(self.changed)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#job-log-scroll").scroll_relative(y=lines, animate=False)

    def action_scroll_end(self) -> None:
        self.query_one("#job-log-scroll").scroll_end(animate=False)

    def action_cancel(self) -> None:
        job = self.job
        if job is None:
            return
        if job.status.finished:
            self.notify(f"job {job.short_id} has {job.status.value} already: nothing to cancel")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.cancel()

        self.app.push_screen(ConfirmModal(
            f"Cancel job {job.short_id} ({job.kind} of {job.host_name}, {job.status.value})?",
            confirm="Stop job", refuse="Keep it", title="Cancel job", danger=True), answered)

    @work(group="job-action", exit_on_error=False)
    async def cancel(self) -> None:
        await self.jobs.cancel(self.job_id)
        self.changed = True
        self.load()

    def action_priority(self, step: int) -> None:
        if self.job is not None and self.job.status in (JobStatus.PENDING, JobStatus.QUEUED):
            self.set_priority(max(1, min(10, self.job.priority + step)))
        elif self.job is not None:
            self.notify(f"job {self.job.short_id} is {self.job.status.value}: priority orders waiting jobs only")

    @work(group="job-action", exit_on_error=False)
    async def set_priority(self, priority: int) -> None:
        await self.workspace.store.set_job_priority(self.job_id, priority)
        self.changed = True
        self.load()
