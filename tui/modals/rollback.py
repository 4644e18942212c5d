"""Roll a hardening job back after the fact (R on a job's details): the files it changed and
how each differs now from the archive it left on the host (the host's words, read as root, shown
as plain text), then a confirmation; a rollback job puts back only those files, checks a fresh
login and scans again."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from core.jobs import rollback
from core.remediation.safety import DEFAULT_GRACE
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.common.words import plural
from tui.modals.confirm import ConfirmModal
from tui.widgets.cells import plain
from tui.widgets.run_choice import RunChoice


class RollbackModal(BaseModal):
    """Dismisses with the rollback job, or None."""

    BINDINGS = keymap.bindings("rollback")

    class Loaded(Message):
        def __init__(self, found: rollback.RollbackPreview):
            super().__init__()
            self.found = found

    def __init__(self, job_id: str):
        super().__init__()
        self.job_id = job_id
        self.found: rollback.RollbackPreview | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog fix-preview") as box:
            box.border_title = "Roll back a hardening job"
            yield Static("reading what the job changed on its host…", id="rollback-summary")
            with VerticalScroll(id="fix-script-scroll"):
                yield Static(id="rollback-diff")
            yield RunChoice(id="run-choice")
            with Horizontal(classes="buttons"):
                yield Button("Roll back (y)", id="apply", variant="error", compact=True, disabled=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()
        self.load()

    @work(group="rollback", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        self.post_message(self.Loaded(await rollback.preview(self.workspace, self.job_id)))

    def on_rollback_modal_loaded(self, message: Loaded) -> None:
        found = self.found = message.found
        palette = self.palette
        lines = [Text(f"job {found.job.short_id} on {found.host} changed {plural(len(found.files), 'file')} of /etc; "
                      f"the archive: {found.directory}", style="bold")]
        lines += [palette.text(f"  {kind:8} {path}", "text-warning") for kind, path in found.files[:8]]
        if len(found.files) > 8:
            lines.append(palette.muted(f"  and {len(found.files) - 8} more (all in the diff below)"))
        self.query_one("#rollback-summary", Static).update(Text("\n").join(lines))
        self.query_one("#rollback-diff", Static).update(plain(found.diff.rstrip() or "(no difference now)",
                                                              no_wrap=True))
        self.query_one("#apply", Button).disabled = not found.files

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"apply": self.action_apply, "cancel": self.action_close}[event.button.id or ""]()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#fix-script-scroll").scroll_relative(y=lines, animate=False)

    def action_toggle_runner(self) -> None:
        self.query_one(RunChoice).toggle()

    def action_apply(self) -> None:
        if self.found is None or not self.found.files:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.start()

        self.app.push_screen(ConfirmModal(rollback.describe(self.found), confirm="Roll back", title="Roll back",
                                          danger=True), answered)

    @work(group="rollback-apply", exclusive=True, exit_on_error=False)
    async def start(self) -> None:
        workspace, found = self.workspace, self.found
        if found is None:
            return
        host = await workspace.store.require_host(found.host)
        here = self.query_one(RunChoice).here
        params = rollback.rollback_params(found.job, DEFAULT_GRACE)
        (job,) = await self.jobs.harden([(host, params)], here)
        self.notify(f"rollback of job {found.job.short_id} {'running in this app' if here else 'queued for a worker'}"
                    ": follow it on Jobs (4)")
        self.dismiss(job)
