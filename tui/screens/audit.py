"""Action log: who added a host, trusted a host key, started a scan, applied or rolled back a
fix, excepted a rule, changed a schedule or a setting; newest first (core/views/audit.py).

Opened from Jobs (L) or the palette. f steps through the kinds of action, / filters by
subject (a host name, a job, schedule or exception id), V checks the chain (core/audit/verify.py)
and says what it found. Every text here may come from a hostile host or file: plain() cells.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Static

from core.audit.verify import Verdict, verify
from core.domain.audit import Entry
from core.domain.text import one_line
from core.views.audit import ACTION_GROUPS, AUDIT_PAGE, AuditPage, audit_page
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.modals.message import MessageModal
from tui.widgets.cards import NavBar
from tui.widgets.cells import day_time, plain, safe
from tui.widgets.chip import Chip
from tui.widgets.keyed_table import Column, KeyedTable

ACTIONS = [("all", "all")] + [(group, group) for group in ACTION_GROUPS]
SHOWN_PROBLEMS = 12  # lines of a failed check in its dialog; `audit verify` lists them all


class AuditScreen(BaseScreen):
    MODE = "jobs"
    MAIN = "audit"
    FILTER_INPUT = "audit-subject"
    BINDINGS = keymap.bindings("audit")

    def __init__(self) -> None:
        super().__init__()
        self.page: AuditPage | None = None
        self.shown: dict[str, Entry] = {}
        self.verdict: Verdict | None = None

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield Static(Text("Action log", style="bold"), id="audit-title")
        with Horizontal(classes="toolbar"):
            yield Chip("f", "Action", ACTIONS, "all", id="audit-action")
            yield Input(placeholder="/ subject: host name or id", id="audit-subject", compact=True)
        yield Static(id="audit-note")
        yield KeyedTable([
            Column("seq", "Seq", 5, "right"),
            Column("at", "When", 11),
            Column("actor", "Actor", None, min_width=8, flex=2),
            Column("action", "Action", 16),
            Column("subject", "Subject", None, min_width=8, flex=2),
            Column("details", "Details", None, min_width=8, flex=3),
        ], empty="no actions logged yet", id="audit")
        yield Static(id="audit-detail", classes="detail")
        yield Footer(compact=True, show_command_palette=False)

    # ---------------------------------------------------------------- loading

    def _filters(self) -> tuple[str | None, str | None]:
        action = self.query_one("#audit-action", Chip).value
        subject = self.query_one("#audit-subject", Input).value.strip()
        return (None if action == "all" else action), (subject or None)

    def read(self) -> Read:
        action, subject = self._filters()
        return partial(audit_page, self.workspace.store, action, subject)

    def show(self, page: AuditPage) -> bool:
        self.page = page
        self.shown = {str(e.seq): e for e in page.entries}
        table = self.query_one("#audit", KeyedTable)
        action, subject = self._filters()
        filters = [f"{name} {value}" for name, value in (("action", action), ("subject", subject)) if value]
        table.empty_text = (f"no entries match {', '.join(filters)} (esc clears)" if filters
                            else "no actions logged yet")
        table.set_rows((str(e.seq), self._row(e)) for e in page.entries)
        self._show_note()
        self._show_detail()
        return False

    def _row(self, entry: Entry) -> tuple:
        return (Text(str(entry.seq)), Text(day_time(entry.at, self.state.clock())), plain(entry.actor),
                plain(entry.action), plain(entry.subject), plain(one_line(entry.details, 200)))

    def _show_note(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.page is not None:
            line.append(f"newest {len(self.page.entries)}" + (f" of more (the first {AUDIT_PAGE}; "
                        "`compliance-tui audit log` lists all)" if self.page.more else "") + " · times UTC")
        verdict = self.verdict
        if verdict is None:
            line.append_text(self.palette.muted(" · V checks the chain"))
        elif verdict.intact:
            line.append_text(self.palette.text(f" · chain intact ({verdict.entries} entries)", "text-success"))
        else:
            line.append_text(self.palette.text(f" · chain BROKEN: {len(verdict.problems)} problem(s)", "text-error"))
        self.query_one("#audit-note", Static).update(safe(line))

    # ---------------------------------------------------------------- selection

    def _current(self) -> Entry | None:
        key = self.query_one("#audit", KeyedTable).cursor_key
        return self.shown.get(key) if key else None

    @on(KeyedTable.Highlighted, "#audit")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        entry, detail = self._current(), self.query_one("#audit-detail", Static)
        if entry is None:
            detail.update("")
            return
        line = Text(overflow="ellipsis")
        line.append(f"#{entry.seq} {entry.at[:19].replace('T', ' ')} UTC · {entry.actor} · {entry.action} "
                    f"{entry.subject} · {entry.details} · hash {entry.hash[:12]}")
        detail.update(safe(line))

    # ---------------------------------------------------------------- actions

    def action_cycle(self) -> None:
        self.query_one("#audit-action", Chip).cycle()

    @on(Chip.Changed)
    def _action_changed(self) -> None:
        self.reload()

    @on(Input.Changed, "#audit-subject")
    def _subject_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#audit-subject")
    def _subject_done(self) -> None:
        self.query_one("#audit").focus()

    def clear_filters(self) -> bool:
        chip, field = self.query_one("#audit-action", Chip), self.query_one("#audit-subject", Input)
        if chip.value == "all" and not field.value.strip():
            return False
        with self.prevent(Chip.Changed, Input.Changed):
            chip.value, field.value = "all", ""
        self.reload()
        return True

    def action_verify(self) -> None:
        self.check_chain()

    @work(group="audit-verify", exclusive=True, exit_on_error=False)
    async def check_chain(self) -> None:
        verdict = await verify(self.workspace.store)
        self.verdict = verdict
        self._show_note()
        if verdict.intact:
            text = (f"The action log is intact: {verdict.entries} entries, each linked to the one before, "
                    f"ending where the store says it ends.\n\nHead: seq {verdict.last_seq}, hash "
                    f"{verdict.last_hash}\n\nNote the head hash elsewhere to compare it later.")
            self.app.push_screen(MessageModal(text, title="Action log checked"))
            return
        lines = verdict.problems[:SHOWN_PROBLEMS]
        more = len(verdict.problems) - len(lines)
        text = "\n".join(lines) + (f"\n… and {more} more: compliance-tui audit verify" if more else "")
        self.app.push_screen(MessageModal(f"The action log is NOT intact:\n\n{text}", title="Action log BROKEN",
                                          danger=True))
