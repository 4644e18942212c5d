"""Request an exception for one failed rule of a scan (Results, key a): the business reason, the
scope (this host, one of its tags, or all hosts) and the last day it holds. Core checks it and
records it pending (under the two-person rule: it changes no score until someone else approves
it); errors in the form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Awaitable, Callable

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Input, Label, Select, Static

from core.domain.errors import InvalidInput
from core.domain.models import Host, RuleResult
from core.domain.policy import MAX_REASON, RuleException, parse_day
from tui.base.form import FormModal
from tui.widgets.cells import plain, short_rule

DEFAULT_DAYS = 90  # a quarter: long enough for a vendor's fix, short enough to be looked at again


@dataclass(frozen=True)
class ExceptionForm:
    """What the operator asked for, checked as far as the form can (core checks the rest)."""

    reason: str
    expires: str  # YYYY-MM-DD
    host: str | None = None
    tag: str | None = None
    all_hosts: bool = False


Save = Callable[[ExceptionForm], Awaitable[RuleException]]


def scope_options(host: Host) -> list[tuple[str, str]]:
    """(label, value): the host, each of its tags, all hosts. Values: host:NAME, tag:TAG, all."""
    return ([(f"This host: {host.name}", f"host:{host.name}")]
            + [(f"Tag: {tag}", f"tag:{tag}") for tag in host.tags] + [("All hosts", "all")])


class ExceptionFormModal(FormModal[ExceptionForm, RuleException]):
    """Dismisses with the recorded RuleException, or None when cancelled."""

    def __init__(self, result: RuleResult, host: Host, today: date, two_person: bool, save: Save):
        super().__init__(save)
        self.result, self.host, self.today, self.two_person = result, host, today, two_person

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog host-form exception-form") as box:
            box.border_title = "Request an exception"
            yield Static(plain(f"{short_rule(self.result.rule_id)} ({self.result.result} on {self.host.name}): "
                               f"{self.result.title or ''}", no_wrap=True, overflow="ellipsis"), classes="note")
            with Grid(classes="form"):
                yield Label("Reason")
                yield Input("", placeholder="the business justification", max_length=MAX_REASON, id="f-reason",
                            compact=True)
                yield Label("Scope")
                yield Select(scope_options(self.host), value=f"host:{self.host.name}", allow_blank=False,
                             compact=True, id="f-scope")
                yield Label("Expires")
                yield Input((self.today + timedelta(days=DEFAULT_DAYS)).isoformat(),
                            placeholder="YYYY-MM-DD: holds through this day (UTC)", id="f-expires", compact=True)
            yield Static(plain("Pending until someone else approves it (Exceptions, ctrl+e): until then the rule "
                               "counts as failing." if self.two_person else
                               "The two-person rule is off: it takes effect at once."), classes="note")
            yield from self.form_end()

    def on_mount(self) -> None:  # Textual runs BaseModal's on_mount too
        self.query_one("#f-reason", Input).focus()

    def read(self) -> ExceptionForm:
        reason = self.field("reason")
        if len(reason) < 3:
            raise InvalidInput("give the business reason (at least 3 characters)")
        expires = parse_day(self.field("expires")).isoformat()
        scope = str(self.query_one("#f-scope", Select).value)
        kind, _, name = scope.partition(":")
        return ExceptionForm(reason, expires, host=name if kind == "host" else None,
                             tag=name if kind == "tag" else None, all_hosts=kind == "all")
