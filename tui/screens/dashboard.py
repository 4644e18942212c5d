"""Dashboard: the fleet at a glance (core.views.dashboard builds it).

Cards: hosts, scanned in the last 7 days, never scanned or overdue for a schedule, mean and
worst score. The fleet's mean and worst score over 30 days. Hosts ranked by score, worst
first, each with its 30-day sparkline; beside them the rules failing on the most hosts:
enter on a rule shows only the hosts that fail it, enter on a host opens its scans.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from core.domain.events import JobEvent
from core.views.dashboard import Dashboard, Standing, dashboard_fill, dashboard_head
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.common.words import plural
from tui.widgets.cards import NavBar, StatCard
from tui.widgets.cells import DASH, day_time, score_class, short_rule
from tui.widgets.keyed_table import Column, KeyedTable
from tui.widgets.score_chart import ScoreChart, Series, fit_window
from tui.widgets.sparkline import sparkline

SPARK = 10  # characters of the 30-day sparkline: three days each


class DashboardScreen(BaseScreen):
    MODE = "dashboard"
    MAIN = "fleet"
    BINDINGS = keymap.bindings("dashboard")

    def __init__(self) -> None:
        super().__init__()
        self.board: Dashboard | None = None
        self.rule_filter: str | None = None  # show only the hosts failing this rule
        self._standings: dict[str, Standing] = {}

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Horizontal(id="cards"):
            yield StatCard("Hosts", id="card-hosts")
            yield StatCard("Scanned 7d", id="card-recent")
            yield StatCard("Overdue", id="card-missing")
            yield StatCard("Mean score", id="card-mean")
            yield StatCard("Worst", id="card-worst")
        yield ScoreChart(id="trend")
        yield Static(id="exceptions-note", classes="detail")
        yield Static(id="fleet-note", classes="detail")
        with Horizontal(id="fleet-tables"):
            yield KeyedTable([
                Column("host", "Host", None, min_width=8, flex=2),
                Column("score", "Score", 5, "right"),
                Column("spark", "30 days", SPARK),
                Column("failed", "Fail", 4, "right"),
                Column("last", "Last scan", 11),
            ], empty="no hosts yet: press 2, then a to add one", id="fleet")
            yield KeyedTable([
                Column("hosts", "Hosts", 5, "right"),
                Column("rule", "Most failed rules", None, min_width=12),
            ], empty="no failed rule in the latest scans", id="rules")
        yield Footer(compact=True, show_command_palette=False)

    # ---------------------------------------------------------------- loading

    def read(self) -> Read:
        """The first time two steps: hosts and cards (a first paint in tens of ms on a big fleet),
        then show() asks for the sparklines, the fleet's line and the most failed rules."""
        store, now = self.workspace.store, self.state.clock()
        if self.board is None:
            return partial(dashboard_head, store, now)

        async def whole() -> Dashboard:
            return await dashboard_fill(store, await dashboard_head(store, now))

        return whole

    def show(self, board: Dashboard) -> bool:
        self.board = board
        self._standings = {s.host.name: s for s in board.standings}
        self._show_cards(board)
        self._show_exceptions(board)
        if board.complete:
            self._show_trend(board)
            self.query_one("#rules", KeyedTable).set_rows(
                (r.rule_id, (str(len(r.hosts)), Text(r.title or short_rule(r.rule_id)))) for r in board.rules)
        else:
            self.load(partial(dashboard_fill, self.workspace.store, board))
        self._show_fleet()
        return board.complete and board.active_jobs > 0

    def _show_cards(self, board: Dashboard) -> None:
        hosts = len(board.standings)
        self.query_one("#card-hosts", StatCard).show(str(hosts))
        self.query_one("#card-recent", StatCard).show(
            f"{board.scanned_recently} / {hosts}", "-good" if hosts and board.scanned_recently == hosts else None)
        missing = len(board.never) + len(board.overdue)
        self.query_one("#card-missing", StatCard).show(
            f"{len(board.overdue)} · {len(board.never)} never", "-warn" if missing else "-good")
        self.query_one("#card-mean", StatCard).show(
            DASH if board.mean is None else f"{board.mean:.1f}%", score_class(board.mean))
        worst = board.worst
        score = worst.latest.score if worst and worst.latest else None  # the worst has a score
        self.query_one("#card-worst", StatCard).show(
            DASH if worst is None else f"{score:.1f} {worst.host.name}", score_class(score))

    def _show_exceptions(self, board: Dashboard) -> None:
        """One line, only while exceptions end within 7 days or requests wait for a decision."""
        note = self.query_one("#exceptions-note", Static)
        note.display = bool(board.expiring or board.pending_exceptions)
        if not note.display:
            return
        keys = self.state.user_keys.get("app.exceptions") or keymap.default_keys("app.exceptions")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"Exceptions ({keymap.key_label(keys)}): ", style="bold")
        parts = []
        if board.pending_exceptions:
            waiting = board.pending_exceptions
            parts.append(Text(f"{waiting} awaiting approval"))
        if board.expiring:
            soon = self.palette.text("ending within 7 days: ", "text-warning")
            soon.append(", ".join(f"{short_rule(e.rule_id)} ({e.expires[5:]}, {e.scope_text()})"
                                  for e in board.expiring))
            parts.append(soon)
        line.append_text(Text("  ·  ").join(parts))
        note.update(line)

    def _show_trend(self, board: Dashboard) -> None:
        series = [Series("fleet mean", tuple((t, m) for t, m, _ in board.fleet)),
                  Series("worst host", tuple((t, w) for t, _, w in board.fleet))]
        now = self.state.clock()
        window = fit_window((t for t, _, _ in board.fleet), now)
        title = (f"Fleet score, {window.label}: {plural(len(board.standings), 'host')}" if board.fleet
                 else "Fleet score: no completed scans in the last 30 days")
        if board.excepted:
            title += f" ({board.excepted} excepted failures left out)"
        if len(board.frameworks) > 1:  # each host's latest score, whatever it checked: say it mixes
            title += f"; mixes {', '.join(board.frameworks)} scores"
        self.query_one("#trend", ScoreChart).show(title, series if board.fleet else [], now, window=window)

    def _show_fleet(self) -> None:
        board = self.board
        if board is None:  # nothing read yet (a rule filter needs the rules read)
            return
        names = [s.host.name for s in board.standings]
        note = Text(no_wrap=True, overflow="ellipsis")
        if self.rule_filter:
            rule = next((r for r in board.rules if r.rule_id == self.rule_filter), None)
            failing = set(rule.hosts) if rule else set()
            names = [n for n in names if n in failing]
            note.append(f"{plural(len(names), 'host')} fail{'s' if len(names) == 1 else ''} "
                        f"{short_rule(self.rule_filter)}", style="bold")
            note.append_text(self.palette.muted("  ·  esc: every host"))
        else:
            note.append("Hosts by score, worst first")
            if board.never or board.overdue:
                note.append_text(self.palette.text(
                    f"  ·  never scanned {len(board.never)}, overdue {len(board.overdue)}", "text-warning"))
            note.append_text(self.palette.muted("  ·  tab: rules"))
        self.query_one("#fleet-note", Static).update(note)
        self.query_one("#fleet", KeyedTable).set_keys(names, self._host_row)

    def _host_row(self, name: str) -> tuple:
        standing, palette = self._standings[name], self.palette
        scan = standing.latest
        if standing.overdue:
            last = palette.text("overdue", "text-warning")
        elif scan is None:
            last = palette.muted("never")
        else:
            last = Text(day_time(scan.created_at, self.state.clock()))
        score = palette.score(scan.score if scan else None)
        if standing.stale:  # counted in neither the mean nor the worst
            score = palette.muted(score.plain)
        return (Text(name), score, sparkline(palette, standing.days, SPARK),
                palette.count(scan.counts.get("fail", 0) if scan else None, "text-error"), last)

    # ---------------------------------------------------------------- keys

    def action_choose(self) -> None:
        focused = self.focused
        if isinstance(focused, KeyedTable) and focused.id == "rules":
            if focused.cursor_key:
                self.rule_filter = focused.cursor_key
                self._show_fleet()
                self.query_one("#fleet", KeyedTable).focus()
            return
        key = self.query_one("#fleet", KeyedTable).cursor_key
        if key:
            self.state.open_compliance(key)

    @on(KeyedTable.Chosen)
    def _chosen(self) -> None:
        self.action_choose()

    def action_back(self) -> None:
        if self.rule_filter:  # esc first clears the rule filter
            self.rule_filter = None
            self._show_fleet()
            return
        super().action_back()

    def on_job_event(self, event: JobEvent) -> None:
        if event.kind in ("created", "finished"):
            self.reload()
