"""Quick Fix / Harden preview: each fix's attributes and warnings, the rules without a fix,
and the whole script as it will run (line breaks kept, scrolls both ways). Nothing runs
until the operator confirms here, and a second time for fixes that need a reboot or carry
high disruption. `a` saves the same fixes as an Ansible playbook instead.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from core.jobs import queue
from core.jobs.harden import DEFAULT_GRACE
from core.remediation import planning
from core.remediation.fixes import playbook, whole_script
from tui import keymap
from tui.modals.confirm import ConfirmModal
from tui.screens.base import BaseModal
from tui.widgets.run_choice import RunChoice


class FixPreviewModal(BaseModal):
    """Dismisses with the created jobs, or None when nothing was started."""

    BINDINGS = keymap.bindings("fix_preview")

    def __init__(self, requests: list[planning.FixRequest], title: str):
        super().__init__()
        self.requests = requests
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog fix-preview") as box:
            box.border_title = self.title_text
            yield Static(self._summary(), id="fix-summary")
            with VerticalScroll(id="fix-script-scroll"):
                yield Static(Text(self._script(), no_wrap=True), id="fix-script")
            yield RunChoice(id="run-choice")
            with Horizontal(classes="buttons"):
                yield Button("Apply (y)", id="apply", variant="error", compact=True)
                yield Button("Save playbook (A)", id="playbook", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#cancel", Button).focus()

    def _summary(self) -> Text:
        palette = self.app.palette
        lines: list[Text] = []
        for request in self.requests:
            plan = request.plan
            lines.append(Text(f"{request.host.name}: {len(plan.fixes)} fix(es) from scan {request.scan.short_id} "
                              f"({request.datastream.path.name}, SSG {request.datastream.version})", style="bold"))
            for fix in plan.fixes:
                row = Text(f"  {fix.short_id}  ")
                row.append_text(palette.muted(f"reboot {'yes' if fix.reboot else 'no'} · disruption "
                                              f"{fix.disruption or '?'} · complexity {fix.complexity or '?'} · "
                                              f"{fix.strategy or '?'}"))
                lines.append(row)
            lines += [palette.text(f"  ⚠ {warning}", "text-warning") for warning in plan.warnings()]
            lines += [palette.text(f"  no automated fix: {m.rule_id.rpartition('_rule_')[2]} (its fix text is "
                                   "in the script below)", "text-error") for m in plan.missing]
        return Text("\n").join(lines)

    def _script(self) -> str:
        parts = []
        for request in self.requests:
            text = whole_script(request.plan, request.host.name)
            for missing in request.plan.missing:
                fixtext = "\n".join(f"#   {line}" for line in missing.fixtext.splitlines()) or "#   (none given)"
                text += f"\n# ---- no automated fix: {missing.rule_id}\n{fixtext}\n"
            parts.append(text)
        return "\n".join(parts)

    # ---------------------------------------------------------------- actions

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"apply": self.action_apply, "playbook": self.action_save_playbook,
         "cancel": self.action_close}[event.button.id]()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#fix-script-scroll").scroll_relative(y=lines, animate=False)

    def action_toggle_runner(self) -> None:
        self.query_one(RunChoice).toggle()

    def action_apply(self) -> None:
        hosts = ", ".join(r.host.name for r in self.requests)
        count = sum(len(r.plan.fixes) for r in self.requests)
        self.app.push_screen(ConfirmModal(
            f"Apply {count} fix(es) to {hosts} as root? /etc is archived first and restored on its own "
            "if a fresh login fails or the connection dies.", confirm="Apply", title="Apply fixes", danger=True),
            self._confirmed)

    def _confirmed(self, yes: bool | None) -> None:
        if not yes:
            return
        risky = [f.short_id for r in self.requests for f in r.plan.fixes if f.needs_second_confirmation]
        if not risky:
            self.start()
            return
        self.app.push_screen(ConfirmModal(
            f"{', '.join(risky)} may need a reboot or disrupt services. Apply them anyway?",
            confirm="Apply anyway", title="Reboot or high disruption", danger=True),
            lambda again: again and self.start())

    @work(group="apply", exclusive=True, exit_on_error=False)
    async def start(self) -> None:
        here = self.query_one(RunChoice).here
        runner, workspace, jobs = self.app.jobs.runner, self.app.workspace, []
        for request in self.requests:
            params = request.params(DEFAULT_GRACE)
            if here:
                jobs.append(await runner.enqueue_harden(request.host, params, 5))
            else:
                jobs.append(await queue.harden_for_workers(workspace, request.host, params, 5))
        where = "running in this app" if here else "queued for a worker"
        self.notify(f"{len(jobs)} hardening job(s) {where}: follow them on Jobs (4)")
        self.dismiss(jobs)

    def action_save_playbook(self) -> None:
        self.save_playbook()

    @work(group="playbook", exclusive=True, exit_on_error=False)
    async def save_playbook(self) -> None:
        from core.results.exports import file_safe, stamp, write_atomically

        written = []
        for request in self.requests:
            ansible = await planning.load(self.app.workspace, request.params(DEFAULT_GRACE), system="ansible")
            name = f"{file_safe(request.host.name)}-quick-fix-{stamp()}.yml"
            path = self.app.workspace.data_dir / "exports" / name
            written.append(write_atomically(path, playbook(ansible.plan, request.host.name)))
        self.notify("Ansible playbook saved: " + ", ".join(str(p) for p in written), timeout=20)
