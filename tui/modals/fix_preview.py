"""Quick Fix / Harden preview. On top, always on screen (at 80x24 too): what the fixes do
that an operator must know, one line per kind with its count and rules (PAM, sshd, sudoers,
firewall, a reboot, packages, kernel parameters, no fix). Below, scrolling both ways: the
Values the script uses and where each came from, each fix's attributes, then the script as it
will run. Nothing runs until the operator confirms, which repeats the summary; many rules or
several hosts ask for the host's name or the count of hosts to be typed, and a reboot or high
disruption asks once more. Several hosts: the first is a canary, the rest follow once it
passed. `A` saves the same fixes as an Ansible playbook instead.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from core.remediation import planning
from core.remediation.fixes import WARNING_ORDER, playbook, summary_lines, whole_script
from core.remediation.safety import DEFAULT_GRACE
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.modals.confirm import ConfirmModal, TypedConfirmModal
from tui.widgets.run_choice import RunChoice


def fix_attributes(fix) -> str:
    """'reboot no · disruption low · complexity low · strategy restrict'; what the content does
    not state is said so, once, instead of a row of question marks."""
    stated = [f"{name} {value}" for name, value in (("disruption", fix.disruption), ("complexity", fix.complexity),
                                                    ("strategy", fix.strategy)) if value]
    if not (fix.disruption or fix.complexity):
        stated.append("disruption and complexity not stated by the content")
    return " · ".join([f"reboot {'yes' if fix.reboot else 'no'}", *stated])


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
            yield Static(self.summary(), id="fix-summary")
            with VerticalScroll(id="fix-script-scroll"):
                yield Static(self._details(), id="fix-script")
            yield RunChoice(id="run-choice")
            with Horizontal(classes="buttons"):
                yield Button("Apply (y)", id="apply", variant="error", compact=True)
                yield Button("Save playbook (A)", id="playbook", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def summary(self, width: int | None = None) -> Text:
        """The lines that must never scroll away: what, where, and every kind of risk."""
        palette, requests = self.palette, self.requests
        width = width or max(40, self.app.size.width - 6)
        count = sum(len(r.plan.fixes) for r in requests)
        first = requests[0]
        where = (f"{first.host.name}: scan {first.scan.short_id}" if len(requests) == 1 else
                 f"{len(requests)} hosts, {requests[0].host.name} first (a canary), then the rest")
        lines = [Text(f"{count} fix(es) as root · {where} · SSG {first.datastream.version} "
                      f"{first.datastream.path.name}"[:width], style="bold")]
        lines += [palette.text(f"⚠ {line}", "text-warning") for line in summary_lines(self.warnings(), width - 2)]
        used = sum(len(r.plan.values) for r in requests)
        lines.append(palette.muted(f"{used} Value(s) used: below, before each fix and the script" if used else
                                   "no Value is used: each fix and the script below"))
        return Text("\n", no_wrap=True, overflow="ellipsis").join(lines)

    def warnings(self) -> list[tuple[str, list[str]]]:
        """Every request's warning classes, merged (a rule named once per class)."""
        merged: dict[str, list[str]] = {}
        for request in self.requests:
            for what, rules in request.plan.warning_classes():
                merged.setdefault(what, [])
                merged[what] += [r for r in rules if r not in merged[what]]
        order = {name: n for n, name in enumerate(WARNING_ORDER)}
        return sorted(merged.items(), key=lambda item: order.get(item[0], 99))

    def _details(self) -> Text:
        palette, parts = self.palette, []
        for request in self.requests:
            plan = request.plan
            parts.append(Text(f"{request.host.name}: {len(plan.fixes)} fix(es) from scan {request.scan.short_id}",
                              style="bold"))
            for value in plan.values:
                row = Text(f"  {value.short_id} = ")
                row.append_text(palette.text(value.value, "text-accent"))
                row.append_text(palette.muted(f"  ({value.source})"))
                parts.append(row)
            for fix in plan.fixes:
                row = Text(f"  {fix.short_id}  ")
                row.append_text(palette.muted(fix_attributes(fix)))
                parts.append(row)
            parts.append(Text(""))
        parts.append(Text(self._script(), no_wrap=True))
        return Text("\n", no_wrap=True).join(parts)

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
         "cancel": self.action_close}[event.button.id or ""]()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#fix-script-scroll").scroll_relative(y=lines, animate=False)

    def action_toggle_runner(self) -> None:
        self.query_one(RunChoice).toggle()

    def action_apply(self) -> None:
        hosts = ", ".join(r.host.name for r in self.requests)
        count = sum(len(r.plan.fixes) for r in self.requests)
        question = Text(f"Apply {count} fix(es) to {hosts} as root?\n/etc is archived first and restored if a "
                        "fresh login fails.\n\n", no_wrap=True, overflow="ellipsis")
        question.append_text(self.summary(60))
        word = planning.typed_confirmation(self.requests)
        if word is None:
            self.app.push_screen(ConfirmModal(question, confirm="Apply", title="Apply fixes", danger=True),
                                 self._confirmed)
            return
        what = f"the number of hosts ({word})" if len(self.requests) > 1 else f"the host's name ({word})"
        self.app.push_screen(TypedConfirmModal(question, word, f"Type {what} to apply", title="Apply fixes"),
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
            confirm="Apply anyway", title="Reboot or high disruption", danger=True), self._confirmed_again)

    def _confirmed_again(self, again: bool | None) -> None:
        if again:
            self.start()

    @work(group="apply", exclusive=True, exit_on_error=False)
    async def start(self) -> None:
        here = self.query_one(RunChoice).here
        params = [(request.host, request.params(DEFAULT_GRACE)) for request in self.requests]
        jobs = await self.jobs.harden(params, here)
        where = "running in this app" if here else "queued for a worker"
        rest = f"; the other {len(params) - 1} host(s) follow once it passed" if len(params) > 1 else ""
        self.notify(f"{len(jobs)} hardening job(s) {where}{rest}: follow them on Jobs (4)")
        self.dismiss(jobs)

    def action_save_playbook(self) -> None:
        self.save_playbook()

    @work(group="playbook", exclusive=True, exit_on_error=False)
    async def save_playbook(self) -> None:
        from core.results.exports import file_safe, stamp, write_atomically

        written = []
        for request in self.requests:
            ansible = await planning.load(self.workspace, request.params(DEFAULT_GRACE), system="ansible")
            name = f"{file_safe(request.host.name)}-quick-fix-{stamp()}.yml"
            path = self.workspace.data_dir / "exports" / name
            written.append(write_atomically(path, playbook(ansible.plan, request.host.name)))
        self.notify("Ansible playbook saved: " + ", ".join(str(p) for p in written), timeout=20)
