"""Results of one scan: filter, search, sort in SQL; expand a rule; pick failed ones to fix;
explain one with AI (the AI column and `e`, only once an LLM is configured)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer, Input, Static

from core.domain.models import RuleResult, Scan
from core.domain.policy import is_failure
from core.views.exceptions import results_with_exceptions
from tui.base.screen import BaseScreen
from tui.common import keymap
from tui.services import assistant
from tui.services.files import export_results
from tui.widgets.cards import NavBar
from tui.widgets.cells import DASH, plain, profile_title, safe, seconds, short_rule, short_time
from tui.widgets.chip import Chip
from tui.widgets.keyed_table import Column, KeyedTable, cut_middle, distinct_cuts
from tui.widgets.last_file import LastFile

RESULTS = [("all", "all"), ("pass", "pass"), ("fail", "fail"), ("error", "error"),
           ("notapplicable", "notapplicable"), ("notchecked", "notchecked")]
SEVERITIES = [("all", "all")] + [(s, s) for s in ("high", "medium", "low", "info", "unknown")]
SORTS = [("severity", "severity"), ("result", "result"), ("rule id", "rule"), ("time", "time")]


class ResultsScreen(BaseScreen):
    MODE = "compliance"
    FILTER_INPUT = "rule-search"
    MAIN = "rules"
    BINDINGS = keymap.bindings("results")

    class Rows(Message):
        def __init__(self, rows: list[RuleResult], explained: set[tuple[str, str]]):
            super().__init__()
            self.rows, self.explained = rows, explained

    def __init__(self, scan: Scan):
        super().__init__()
        self.scan = scan
        self.rows: list[RuleResult] = []
        self.selected: set[str] = set()
        self._cells: dict[str, tuple] = {}  # rule id -> cells after the mark, built when drawn
        self._seen: dict[str, RuleResult] = {}  # every row any query returned
        self._to_first = False
        self._explained: set[tuple[str, str]] = set()  # (rule, result) with a cached explanation
        self._ai = False  # an LLM is configured: the AI column and `e`
        self._timed: bool | None = None  # rules carry their seconds (not imported or older scans)
        self._cuts: dict[int, dict[str, str]] = {}  # width -> rule id -> as the Rule ID column shows it

    def compose(self) -> ComposeResult:
        scan = self.scan
        yield NavBar(self.MODE)
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"Results {scan.short_id}", style="bold")
        if scan.score is not None:  # before what may be cut at 80 columns
            title.append(" · score ")
            title.append_text(self.palette.score(scan.score, "%"))
        title.append(f" · {scan.host_name} · {profile_title(scan.profile)} · {short_time(scan.created_at)}")
        yield Static(safe(title), id="results-title")
        with Horizontal(classes="toolbar"):
            yield Chip("f", "Result", RESULTS, "all", id="result-filter")
            yield Chip("v", "Severity", SEVERITIES, "all", id="severity-filter")
            yield Chip("S", "Sort", SORTS, "severity", id="sort")
            yield Input(placeholder="/ search rule id or title", id="rule-search", compact=True)
        yield Static(id="results-summary")
        self._ai = assistant.is_configured(self.app)
        yield KeyedTable([
            Column("sel", " ", 1),
            Column("rule", "Rule ID", None, min_width=14, flex=2, cut=self._cut_rule),
            Column("title", "Title", None, min_width=12, flex=3),
            Column("severity", "Severity", 8),
            Column("result", "Result", 10),
            *([Column("ai", "AI", 3)] if self._ai else []),
            Column("secs", "Secs", 5, "right", wide_label="Seconds", wide_width=7),
        ], empty="no rule matches these filters", id="rules")
        yield LastFile(id="last-file")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#rules").focus()

    def theme_changed(self) -> None:
        self._cells.clear()
        super().theme_changed()

    # ---------------------------------------------------------------- querying

    def reload(self) -> None:
        def value(selector: str) -> str | None:
            chosen = self.query_one(selector, Chip).value
            return None if chosen == "all" else str(chosen)

        self.fetch_rules(value("#result-filter"), value("#severity-filter"), str(value("#sort")),
                   self.query_one("#rule-search", Input).value.strip())

    @work(group="rules", exclusive=True, exit_on_error=False)
    async def fetch_rules(self, result: str | None, severity: str | None, order: str, search: str) -> None:
        rows = await results_with_exceptions(self.workspace.store, self.scan, result, order=order,
                                             search=search or None, severity=severity)
        explained = await assistant.explained_rules(self.app, self.scan) if self._ai else set()
        self.post_message(self.Rows(rows, explained))

    @on(Chip.Changed)
    @on(Input.Changed, "#rule-search")
    def _filters_changed(self) -> None:
        self._to_first = True
        self.reload()

    def _filters(self) -> list[str]:
        words = []
        for chip, label in (("result-filter", "result"), ("severity-filter", "severity")):
            value = self.query_one(f"#{chip}", Chip).value
            if value != "all":
                words.append(f"{label} {value}")
        search = self.query_one("#rule-search", Input).value.strip()
        self.query_one("#rule-search", Input).set_class(bool(search), "-active")
        return words + ([f"'{search}'"] if search else [])

    def clear_filters(self) -> bool:
        if not self._filters():
            return False
        with self.prevent(Chip.Changed, Input.Changed):
            self.query_one("#result-filter", Chip).value = "all"
            self.query_one("#severity-filter", Chip).value = "all"
            self.query_one("#rule-search", Input).value = ""
        self.reload()
        return True

    @on(Input.Submitted, "#rule-search")
    def _search_done(self) -> None:
        self.query_one("#rules").focus()

    def on_results_screen_rows(self, message: Rows) -> None:
        self.rows = message.rows
        self._cuts.clear()
        if message.explained != self._explained:
            self._explained = message.explained
            self._cells.clear()
        if self._timed is None and self.rows:
            self._timed = any(r.seconds is not None for r in self.rows)
            if not self._timed:  # no column of dashes, no sort that changes nothing
                table = self.query_one("#rules", KeyedTable)
                table.columns = [c for c in table.columns if c.key != "secs"]
                sort = self.query_one("#sort", Chip)
                sort.options = [o for o in sort.options if o[1] != "time"]
        seen = self._seen
        for row in self.rows:
            seen[row.rule_id] = row
        with self.app.batch_update():
            table = self.query_one("#rules", KeyedTable)
            filters = self._filters()
            table.empty_text = (f"no rule matches {', '.join(filters)} (esc clears)" if filters
                                else "this scan has no rule results")
            table.set_keys([r.rule_id for r in self.rows], self._row)
            if self._to_first:
                self._to_first = False
                table.action_jump(0)
            self._show_summary()

    def _row(self, rule_id: str) -> tuple:
        """The cells of one rule's row (the table asks only for the rows it draws)."""
        result = self._seen[rule_id]
        cells = self._cells.get(rule_id)
        if cells is None:
            palette = self.palette
            cells = self._cells[rule_id] = (
                plain(short_rule(result.rule_id)), plain(result.title or DASH),
                palette.severity(result.severity),
                palette.muted(f"{result.result} exc") if result.exception else palette.result(result.result),
            ) + ((assistant.explain_cell(self.app, (rule_id, result.result) in self._explained),)
                 if self._ai else ()) + (self._seconds(result) if self._timed else ())
        mark = self.palette.text("✓", "text-accent", bold=True) if result.rule_id in self.selected else ""
        return (mark, *cells)

    def _cut_rule(self, rule: str, width: int) -> str:
        """A rule id too long for its column, cut so that it reads apart from the rows around it."""
        if width not in self._cuts:
            self._cuts = {width: distinct_cuts([short_rule(r.rule_id) for r in self.rows], width)}
        return self._cuts[width].get(rule) or cut_middle(Text(rule), width).plain

    def _seconds(self, result: RuleResult) -> tuple:
        return (self.palette.muted(DASH) if result.seconds is None else seconds(result.seconds),)

    def _show_summary(self) -> None:
        palette, scan = self.palette, self.scan
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"Total {scan.total} rules  ")
        line.append(f" Failed {scan.counts.get('fail', 0)} ",
                    style=palette.style("text-error", bold=True) + Style(reverse=True))
        if scan.excepted:
            line.append(f"  excepted {scan.excepted}", style=palette.style("foreground-muted"))
        line.append(f"  showing {len(self.rows)}")
        if self.selected:
            line.append("  ·  ")
            line.append(f"Quick Fix ({len(self.selected)}): F", style=palette.style("text-accent", bold=True))
        else:
            line.append("  ·  space picks failed rules to fix", style=palette.style("foreground-muted"))
        self.query_one("#results-summary", Static).update(safe(line))

    # ---------------------------------------------------------------- keys

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "explain":
            return self._ai  # no LLM: no key, and none in the footer
        return True

    def action_explain(self) -> None:
        from tui.modals.explain import ExplainModal

        key = self.query_one("#rules", KeyedTable).cursor_key
        if key is None:
            return
        result = self._seen[key]

        def closed(saved: bool | None) -> None:
            if saved:
                self._explained.add((key, result.result))
                self._cells.pop(key, None)
                self.query_one("#rules", KeyedTable).update_row(key)

        self.app.push_screen(ExplainModal(self.scan, result), closed)

    def action_cycle(self, chip_id: str) -> None:
        self.query_one(f"#{chip_id}", Chip).cycle()

    def action_select(self) -> None:
        table = self.query_one("#rules", KeyedTable)
        key = table.cursor_key
        if key is None:
            return
        if self._seen[key].result != "fail":
            self.notify("only failed rules can be selected for Quick Fix", severity="warning", timeout=4)
            return
        self.selected ^= {key}
        table.update_row(key)
        self._show_summary()

    def action_quick_fix(self) -> None:
        count = len(self.selected)
        if not count:
            self.notify("select failed rules with space first", severity="warning")
            return
        self.plan_fix(sorted(self.selected))

    @work(group="quick-fix", exclusive=True, exit_on_error=False)
    async def plan_fix(self, rules: list[str]) -> None:
        from core.remediation import planning
        from tui.modals.fix_preview import FixPreviewModal

        request = await planning.quick_fix(self.workspace, self.scan.id, rules)
        self.app.push_screen(FixPreviewModal([request], f"Quick Fix ({len(rules)}) of {self.scan.host_name}"),
                             self._fix_started)

    def _fix_started(self, jobs) -> None:
        if jobs:
            self.selected.clear()
            self.reload()

    def action_request_exception(self) -> None:
        key = self.query_one("#rules", KeyedTable).cursor_key
        if key is None:
            return
        result = self._seen[key]
        if not is_failure(result.result):
            self.notify("an exception accepts a failed rule (fail, error or unknown); this one is "
                        f"{result.result}", severity="warning", timeout=5)
        elif result.exception is not None:
            self.notify(f"already excepted until {result.exception.expires} ({result.exception.scope_text()})",
                        severity="warning", timeout=5)
        else:
            self.open_exception_form(result)

    @work(group="exception-form", exclusive=True, exit_on_error=False)
    async def open_exception_form(self, result: RuleResult) -> None:
        from core.policy import exceptions as service
        from tui.modals.exception_form import ExceptionForm, ExceptionFormModal

        host = await self.workspace.store.require_host(self.scan.host_name)

        async def save(form: ExceptionForm):
            return await service.add_exception(self.workspace, rule=result.rule_id, reason=form.reason,
                                               expires=form.expires, host=form.host, tag=form.tag,
                                               all_hosts=form.all_hosts)

        self.app.push_screen(ExceptionFormModal(result, host, self.state.clock().date(),
                                                service.two_person(self.workspace), save), self._exception_saved)

    def _exception_saved(self, exc) -> None:
        if exc is None:
            return
        if exc.status == "approved":
            self.notify(f"exception {exc.short_id} in force until {exc.expires} for {exc.scope_text()}", timeout=6)
            self.reload()
        else:
            self.notify(f"exception {exc.short_id} requested for {exc.scope_text()}: pending until someone else "
                        "approves it (Exceptions, ctrl+e)", timeout=8)

    def action_expand(self) -> None:
        from tui.modals.rule_detail import (
            RuleDetailModal,  # Markdown: imported when first needed
        )

        key = self.query_one("#rules", KeyedTable).cursor_key
        if key is not None:
            self.app.push_screen(RuleDetailModal(self.scan, self._seen[key]), self._detail_closed)

    def _detail_closed(self, explained: bool | None) -> None:
        if explained:  # Explain with AI from the details cached one: show ✓
            self.reload()

    @on(KeyedTable.Chosen, "#rules")
    def _chosen(self) -> None:
        self.action_expand()

    def action_export(self, fmt: str) -> None:
        self.export(fmt)

    def action_by_control(self) -> None:
        from tui.screens.controls import ControlsScreen

        self.app.push_screen(ControlsScreen(self.scan))

    @work(group="export", exit_on_error=False)
    async def export(self, fmt: str) -> None:
        message, path = await export_results(self.workspace, self.scan.id, fmt, None)
        self.query_one(LastFile).show(path)
        self.notify(message, timeout=8)
