"""Two scans of a host compared (core.views.compare): newly failing, newly passing, still
failing, and rules a content change added or removed. `f` steps through the categories."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from core.views.compare import CATEGORIES, LABELS, Change, Comparison, compare_scans, differences
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.widgets.cards import NavBar
from tui.widgets.cells import DASH, day_time, short_rule
from tui.widgets.chip import Chip
from tui.widgets.keyed_table import Column, KeyedTable

FILTERS = [("changed", "changed")] + [(LABELS[c], c) for c in CATEGORIES]
CATEGORY_VARS = {"newly_failing": "text-error", "newly_passing": "text-success", "still_failing": "text-warning",
                 "added": "text-accent", "removed": "foreground-muted"}


class CompareScreen(BaseScreen):
    MODE = "compliance"
    MAIN = "changes"
    BINDINGS = keymap.bindings("compare")

    def __init__(self, first: str, second: str):
        super().__init__()
        self.first, self.second = first, second
        self.comparison: Comparison | None = None

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield Static("comparing…", id="compare-title")
        with Horizontal(classes="toolbar"):
            yield Chip("f", "Show", FILTERS, "changed", id="change-filter")
        yield Static(id="compare-summary")
        yield KeyedTable([
            Column("change", "Change", 13),
            Column("severity", "Severity", 8),
            Column("rule", "Rule", None, min_width=14, flex=2),
            Column("title", "Title", None, min_width=10, flex=3),
            Column("before", "Before", 8),
            Column("after", "After", 11),
        ], empty="nothing in this category", id="changes")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#changes").focus()

    def read(self) -> Read:
        return partial(compare_scans, self.workspace.store, self.first, self.second)

    def show(self, comparison: Comparison) -> bool:
        self.comparison = comparison
        self._show_title(comparison)
        self._show_rows(comparison)
        return False

    def _show_title(self, c: Comparison) -> None:
        palette = self.palette
        old, new = c.older, c.newer
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"Compare {new.host_name}", style="bold")
        now = self.state.clock()
        title.append(f" · {old.short_id} {day_time(old.created_at, now)} → {new.short_id} "
                     f"{day_time(new.created_at, now)} · ")
        title.append_text(palette.score(old.score))
        title.append(" → ")
        title.append_text(palette.score(new.score))
        self.query_one("#compare-title", Static).update(title)
        line = Text(overflow="ellipsis")
        for category in CATEGORIES:
            line.append_text(palette.text(f"{c.count(category)} {LABELS[category]}", CATEGORY_VARS[category]))
            line.append("  ")
        if c.hardening:
            line.append_text(palette.text(f"· ▲ {len(c.hardening)} hardening job(s) ran in between", "text-accent"))
        for difference in differences(c, "→"):  # another profile, another release: a line each
            line.append("\n")
            line.append_text(palette.text(difference, "text-warning"))
        self.query_one("#compare-summary", Static).update(line)

    def _changes(self, comparison: Comparison) -> list[tuple[str, Change]]:
        chosen = self.query_one("#change-filter", Chip).value
        wanted = [c for c in CATEGORIES if c != "still_failing"] if chosen == "changed" else [chosen]
        return [(category, change) for category in wanted for change in comparison.changes.get(category, [])]

    def _show_rows(self, comparison: Comparison) -> None:
        palette = self.palette
        rows = []
        for category, change in self._changes(comparison):
            after = palette.result(change.after) if change.after else palette.muted(DASH)
            if change.excepted:
                after = palette.muted(f"{change.after} exc")
            rows.append((f"{category}:{change.rule_id}", (
                palette.text(LABELS[category], CATEGORY_VARS[category]), palette.severity(change.severity),
                Text(short_rule(change.rule_id)), Text(change.title or DASH),
                palette.result(change.before) if change.before else palette.muted(DASH), after)))
        self.query_one("#changes", KeyedTable).set_rows(rows)

    def action_cycle(self) -> None:
        self.query_one("#change-filter", Chip).cycle()

    @on(Chip.Changed)
    def _filter_changed(self) -> None:
        if self.comparison is not None:
            self._show_rows(self.comparison)
