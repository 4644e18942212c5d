"""A rule's head, as Rule details and Explain with AI show it: its short id, severity and
result on one line, its title under it in bold (#rule-tags, #rule-title). The id and title
come from content or an imported results file: shown as they are, never read as markup."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from core.domain.models import RuleResult
from tui.widgets.cells import plain, short_rule
from tui.widgets.view import app_of


class RuleHeader(Vertical):
    def __init__(self, result: RuleResult):
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        palette, result = app_of(self).palette, self.result
        tags = palette.text(f" {short_rule(result.rule_id)} ", "text-accent")
        tags.append("  ")
        tags.append_text(palette.severity(result.severity))
        tags.append("  ")
        tags.append_text(palette.result(result.result))
        yield Static(tags, id="rule-tags")
        yield Static(plain(result.title or result.rule_id), id="rule-title")
