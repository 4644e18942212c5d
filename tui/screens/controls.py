"""One scan's results by control (core.results.controls): `B` steps through the reference systems
(NIST 800-53 first), `s` filters by status, enter lists a control's rules; the HTML report with
a section by this system (`o`, as on Compliance), OSCAL (`M`), STIG checklists (`K` CKL, `J` CKLB)
and the view itself (`x`, `X`) are written from here. Pushed over
Results with `B`."""

from __future__ import annotations

from functools import partial

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from core.domain.models import Scan
from core.results.controls import MET, NOT_APPLICABLE, NOT_CHECKED, NOT_MET, PARTLY, STATUSES, ControlView
from core.results.references import SYSTEMS
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.widgets.cards import NavBar
from tui.widgets.cells import plain, profile_title, safe, short_rule
from tui.widgets.chip import Chip
from tui.widgets.keyed_table import Column, KeyedTable
from tui.widgets.last_file import LastFile

SYSTEM_CHOICES = [(s.name, s.name) for s in SYSTEMS]
STATUS_CHOICES = [("all", "all")] + [(s, s) for s in STATUSES]
STATUS_VARS = {MET: "text-success", NOT_MET: "text-error", PARTLY: "text-warning", NOT_CHECKED: "foreground-muted",
               NOT_APPLICABLE: "foreground-muted"}


class ControlsScreen(BaseScreen):
    MODE = "compliance"
    MAIN = "controls"
    BINDINGS = keymap.bindings("controls")

    def __init__(self, scan: Scan, system: str = "nist-800-53"):
        super().__init__()
        self.scan, self.first_system = scan, system
        self.view: ControlView | None = None

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"Controls {self.scan.short_id}", style="bold")
        title.append(f" · {self.scan.host_name} · {profile_title(self.scan.profile)}")
        yield Static(safe(title), id="controls-title")
        with Horizontal(classes="toolbar"):
            yield Chip("B", "System", SYSTEM_CHOICES, self.first_system, id="control-system")
            yield Chip("s", "Status", STATUS_CHOICES, "all", id="control-status")
        yield Static("reading the rules' references…", id="controls-summary")
        yield KeyedTable([
            Column("control", "Control", None, min_width=10, flex=2),
            Column("status", "Status", 14),
            Column("pass", "Pass", 4, "right"),
            Column("fail", "Fail", 4, "right"),
            Column("other", "Other", 5, "right"),
            Column("rules", "Rules", None, min_width=10, flex=4),
        ], empty="no control", id="controls")
        yield LastFile(id="last-file")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#controls").focus()

    @property
    def system(self) -> str:
        return str(self.query_one("#control-system", Chip).value)

    def read(self) -> Read:
        from core.results.controls import control_view

        return partial(control_view, self.workspace.store, self.scan, self.system)

    def show(self, view: ControlView) -> bool:
        self.view = view
        self._show_rows()
        return False

    def _show_rows(self) -> None:
        view = self.view
        if view is None:
            return
        summary = self.query_one("#controls-summary", Static)
        table = self.query_one("#controls", KeyedTable)
        if view.unavailable:
            summary.update(self.palette.text(view.summary, "text-warning"))
            table.empty_text = "no control view for this scan"
            table.set_rows([])
            return
        line = Text(overflow="ellipsis", no_wrap=True)
        line.append(f"{view.system.title}: {len(view.controls)} controls  ")
        for status in STATUSES:
            if view.statuses.get(status):
                line.append_text(self.palette.text(f"{view.statuses[status]} {status}", STATUS_VARS[status]))
                line.append("  ")
        line.append_text(self.palette.muted(f"· {len(view.unmapped)} rules cite none"))
        summary.update(safe(line))
        wanted = self.query_one("#control-status", Chip).value
        shown = [c for c in view.controls if wanted in ("all", c.status)]
        table.empty_text = f"no control is {wanted} (s changes the filter)" if wanted != "all" else \
            "no rule of this scan cites this system"
        table.set_rows([(c.ref, (plain(c.ref), self.palette.text(c.status, STATUS_VARS[c.status]), str(c.passed),
                                 str(c.failed), str(c.other),
                                 plain(" ".join(short_rule(r.rule_id) for r in c.rules))))
                        for c in shown])

    def action_cycle(self, chip_id: str) -> None:
        self.query_one(f"#{chip_id}", Chip).cycle()

    @on(Chip.Changed, "#control-system")
    def _system_changed(self) -> None:
        self.query_one("#controls-summary", Static).update("reading the rules' references…")
        self.reload()

    @on(Chip.Changed, "#control-status")
    def _status_changed(self) -> None:
        self._show_rows()

    def action_details(self) -> None:
        from tui.modals.message import MessageModal

        key, view = self.query_one("#controls", KeyedTable).cursor_key, self.view
        control = next((c for c in view.controls if c.ref == key), None) if view else None
        if view is None or control is None:
            return
        lines = [f"{control.status}: {control.passed} pass, {control.failed} fail, {control.other} other", ""]
        lines += [f"{r.result:<13} {short_rule(r.rule_id)}" + (" (excepted)" if r.exception else "")
                  for r in control.rules]
        self.app.push_screen(MessageModal("\n".join(lines), title=escape(f"{view.system.name} {control.ref}")))

    @on(KeyedTable.Chosen, "#controls")
    def _chosen(self) -> None:
        self.action_details()

    def action_export(self, what: str) -> None:
        self.export(what)

    @work(group="export", exit_on_error=False)
    async def export(self, what: str) -> None:
        from tui.services.files import export_control_file

        message, path = await export_control_file(self.workspace, self.scan.id, what, self.system)
        self.query_one(LastFile).show(path)
        self.notify(message, timeout=8)
