"""Exceptions: every documented exception with its state, oldest first.

y approves and n rejects a pending request, d revokes an approved one (each asks first); s
filters by state. Under the two-person rule (the default, config [exceptions] two_person) the
requester cannot approve or reject their own request: core refuses, and the refusal shows as
a one-line notice. Requests are made on a failed rule in Results (a), or with the CLI.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from core.audit.log import actor
from core.domain.errors import OperatorError
from core.domain.policy import RuleException
from core.policy import exceptions as service
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.common.words import plural, said
from tui.modals.confirm import ConfirmModal
from tui.widgets.cards import NavBar
from tui.widgets.cells import DASH, plain, short_rule
from tui.widgets.keyed_table import Column, KeyedTable

STATES = ("all", "pending", "in force", "expired", "rejected", "revoked")
STATE_VARS = {"pending": "text-warning", "in force": "text-success", "expired": "text-error",
              "rejected": "foreground-muted", "revoked": "foreground-muted"}
# what each decision needs, does, and says
DECISIONS = {
    "approve": ("pending", "Approve", "From now on it leaves the rule's failures out of scores and reports, "
                "until {expires}."),
    "reject": ("pending", "Reject", "It stays on record and never changes a score."),
    "revoke": ("approved", "Revoke", "Its rule counts as failing again at once."),
}


def exception_id(exc: RuleException) -> str:
    """A listed exception's id: it is stored, so it has one."""
    assert exc.id is not None
    return exc.id


class ExceptionsScreen(BaseScreen):
    MODE = "exceptions"  # reached with ctrl+e (app.exceptions); not one of the numbered screens
    MAIN = "exceptions"
    BINDINGS = keymap.bindings("exceptions")

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, RuleException] = {}
        self.state_filter = "all"

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield Static(id="exceptions-summary", classes="detail")
        yield KeyedTable([
            Column("id", "ID", 8),
            Column("state", "State", 8),
            Column("rule", "Rule", None, min_width=12, flex=3, cut="middle"),
            Column("scope", "Scope", None, min_width=8, flex=2),
            Column("until", "Until", 10),
            Column("by", "Requested by", None, min_width=10, flex=2),
        ], empty="no exceptions: request one on a failed rule in Results (a)", id="exceptions")
        yield Static(id="exception-detail", classes="detail")
        yield Footer(compact=True, show_command_palette=False)

    # ---------------------------------------------------------------- loading

    def read(self) -> Read:
        return partial(service.list_exceptions, self.workspace)

    def show(self, found: list[RuleException]) -> bool:
        today = self.state.clock().date()
        self.found = {exception_id(e): e for e in found}
        shown = [e for e in found if self.state_filter in ("all", e.state(today))]
        table = self.query_one("#exceptions", KeyedTable)
        table.empty_text = (f"no {self.state_filter} exceptions (s: status filter)" if self.state_filter != "all"
                            else "no exceptions: request one on a failed rule in Results (a)")
        table.set_rows((exception_id(e), self._row(e)) for e in shown)
        self._show_summary(found)
        self._show_detail()
        return False

    def _row(self, exc: RuleException) -> tuple:
        state = exc.state(self.state.clock().date())
        return (Text(exc.short_id), self.palette.text(state, STATE_VARS[state]), plain(short_rule(exc.rule_id)),
                plain(exc.scope_text()), Text(exc.expires), plain(exc.requested_by))

    def _show_summary(self, found: list[RuleException]) -> None:
        today = self.state.clock().date()
        counts: dict[str, int] = {}
        for exc in found:
            counts[exc.state(today)] = counts.get(exc.state(today), 0) + 1
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(plural(len(found), "exception"))
        if counts:
            line.append(": " + ", ".join(f"{counts[s]} {s}" for s in STATES if counts.get(s)))
        line.append_text(self.palette.muted(f"  ·  status {self.state_filter} (s)"))
        rule = "two-person rule " + ("on" if service.two_person(self.workspace) else "off")
        line.append_text(self.palette.muted(f"  ·  {rule}"))
        self.query_one("#exceptions-summary", Static).update(line)

    # ---------------------------------------------------------------- selection

    def _current(self) -> RuleException | None:
        key = self.query_one("#exceptions", KeyedTable).cursor_key
        return self.found.get(key) if key else None

    @on(KeyedTable.Highlighted, "#exceptions")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        exc = self._current()
        detail = self.query_one("#exception-detail", Static)
        if exc is None:
            detail.update("")
            return
        text = f"{exc.reason} · requested by {exc.requested_by} {(exc.created_at or DASH)[:10]}"
        if exc.decided_by:
            text += (f" · {'rejected' if exc.status == 'rejected' else 'approved'} by {exc.decided_by} "
                     f"{(exc.decided_at or DASH)[:10]}") + (f": {exc.decision_note}" if exc.decision_note else "")
        if exc.revoked_by:
            text += (f" · revoked by {exc.revoked_by} {(exc.revoked_at or DASH)[:10]}"
                     + (f": {exc.revoke_note}" if exc.revoke_note else ""))
        detail.update(plain(text))  # reasons and notes are anyone's text: shown as they are, never markup

    # ---------------------------------------------------------------- actions

    def action_cycle_status(self) -> None:
        self.state_filter = STATES[(STATES.index(self.state_filter) + 1) % len(STATES)]
        self.reload()

    def action_decide(self, decision: str) -> None:
        exc = self._current()
        if exc is None:
            return
        needs, title, effect = DECISIONS[decision]
        if exc.status != needs:
            self.notify(f"exception {exc.short_id} is {exc.status}: {title} acts on {needs} ones",
                        severity="warning", timeout=6)
            return
        if decision != "revoke":
            try:  # refused before the question, in core's words
                service.require_second_person(self.workspace, exc, actor(), decision)
            except OperatorError as refused:
                self.notify(said(refused), severity="error", timeout=12)
                return
        question = plain(f"{title} exception {exc.short_id}: {short_rule(exc.rule_id)} for {exc.scope_text()} "
                         f"until {exc.expires}, requested by {exc.requested_by} ({exc.reason})? "
                         + effect.format(expires=exc.expires))

        def answered(yes: bool | None) -> None:
            if yes:
                self.decide(decision, exception_id(exc))

        self.app.push_screen(ConfirmModal(question, confirm=title, title=f"{title} exception",
                                          danger=decision != "approve"), answered)

    @work(group="exception-decision", exit_on_error=False)
    async def decide(self, decision: str, exc_id: str) -> None:
        act = {"approve": service.approve_exception, "reject": service.reject_exception,
               "revoke": service.revoke_exception}[decision]
        try:
            exc = await act(self.workspace, exc_id)
        finally:
            self.reload()  # refused too: someone may have decided first
        self.notify(f"exception {exc.short_id} {exc.status}: {short_rule(exc.rule_id)} for {exc.scope_text()}",
                    timeout=5)
