"""Dashboard: the fleet at a glance, straight from the store."""

from __future__ import annotations

from collections import defaultdict

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer

from core.domain.events import JobEvent
from core.domain.timeutil import to_iso
from core.views.summaries import Fleet, fleet_view, score_series
from tui import keymap
from tui.screens.base import BaseScreen
from tui.widgets.cards import NavBar, StatCard
from tui.widgets.cells import DASH, os_label, score_class, short_time
from tui.widgets.keyed_table import Column, KeyedTable
from tui.widgets.score_chart import ScoreChart, Series, since

MAX_LINES = 6  # hosts drawn one line each; more become one fleet-average line


class DashboardScreen(BaseScreen):
    MODE = "dashboard"
    MAIN = "fleet"
    BINDINGS = keymap.bindings("dashboard")

    class Loaded(Message):
        def __init__(self, fleet: Fleet):
            super().__init__()
            self.fleet = fleet

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Horizontal(id="cards"):
            yield StatCard("Hosts", id="card-hosts")
            yield StatCard("Scans", id="card-scans")
            yield StatCard("Fleet Score", id="card-score")
            yield StatCard("Failed Rules", id="card-failed", classes="-bad")
        yield ScoreChart(id="trend")
        yield KeyedTable([
            Column("host", "Host", None, min_width=10, flex=3),
            Column("os", "OS", None, min_width=12, flex=2),
            Column("status", "Status", 7),
            Column("score", "Score", 6, "right"),
            Column("failed", "Failed", 6, "right"),
            Column("last", "Last scan", 16),
        ], empty="no hosts yet: press 2, then a to add one", id="fleet")
        yield Footer(compact=True, show_command_palette=False)

    def reload(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        fleet = await fleet_view(self.app.workspace.store, to_iso(since(self.app.clock())))
        self.post_message(self.Loaded(fleet))

    def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        fleet, palette = message.fleet, self.app.palette
        with self.app.batch_update():
            online = sum(1 for h in fleet.hosts if h.status == "online")
            self.query_one("#card-hosts", StatCard).show(f"{len(fleet.hosts)} · {online} online")
            total = sum(fleet.statuses.values())
            unfinished = fleet.statuses.get("running", 0) + fleet.statuses.get("pending", 0)
            self.query_one("#card-scans", StatCard).show(
                f"{total}" + (f" · {unfinished} running" if unfinished else ""),
                "-info" if unfinished else None)
            scores = [s.score for s in fleet.latest.values() if s.score is not None]
            average = round(sum(scores) / len(scores), 1) if scores else None
            self.query_one("#card-score", StatCard).show(
                DASH if average is None else f"{average:.1f}%", score_class(average))
            failed = sum(s.counts.get("fail", 0) for s in fleet.latest.values())
            self.query_one("#card-failed", StatCard).show(str(failed) if fleet.latest else DASH, "-bad")
            self._draw_trend(fleet)
            rows = []
            for host in fleet.hosts:
                scan = fleet.latest.get(host.name)
                rows.append((host.name, (
                    host.name, os_label(host) or palette.muted("not detected"),
                    palette.text(host.status, {"online": "text-success", "offline": "text-error"}.get(
                        host.status, "foreground-muted")),
                    palette.score(scan.score if scan else None),
                    palette.count(scan.counts.get("fail", 0) if scan else None, "text-error"),
                    short_time(scan.created_at if scan else None),
                )))
            self.query_one("#fleet", KeyedTable).set_rows(rows)
        self.arm_refresh(fleet.active_jobs > 0)

    def _draw_trend(self, fleet: Fleet) -> None:
        by_host = score_series(fleet.trend, "host")
        if len(by_host) <= MAX_LINES:
            series = [Series(name, tuple(points)) for name, points in sorted(by_host.items())]
            title = "Compliance trend, all hosts (last 30 days)"
        else:
            days: dict[str, list[float]] = defaultdict(list)
            for points in by_host.values():
                for stamp, score in points:
                    days[stamp[:10]].append(score)
            series = [Series("fleet average", tuple(
                (f"{day}T12:00:00.000000Z", round(sum(v) / len(v), 1)) for day, v in sorted(days.items())))]
            title = f"Compliance trend, average of {len(by_host)} hosts (last 30 days)"
        if not by_host:
            title = "Compliance trend: no completed scans in the last 30 days"
        self.query_one("#trend", ScoreChart).show(title, series, self.app.clock())

    @on(KeyedTable.Chosen, "#fleet")
    def _chosen(self, event: KeyedTable.Chosen) -> None:
        self.app.open_compliance(event.key)

    def action_open_host(self) -> None:
        key = self.query_one("#fleet", KeyedTable).cursor_key
        if key:
            self.app.open_compliance(key)

    def on_job_event(self, event: JobEvent) -> None:
        if event.kind in ("created", "finished"):
            self.load()

