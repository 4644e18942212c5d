"""Compliance: one host's scans with the spec's cards, 30-day chart, toolbar and table."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Select, Static

from core.domain.events import JobEvent
from core.domain.models import Job, Scan, ScanStatus
from core.domain.timeutil import to_iso
from core.views.compare import previous_scan
from core.views.summaries import HostScans, content_changes, hardened_points, host_scans, score_series
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.modals.import_results import ImportResultsModal
from tui.modals.message import MessageModal
from tui.modals.new_scan import NewScanModal
from tui.screens.compare import CompareScreen
from tui.screens.results import ResultsScreen
from tui.services.files import export_scans, open_report
from tui.widgets.cards import NavBar, StatCard
from tui.widgets.cells import (
    DASH,
    duration,
    plain,
    profile_title,
    progress_text,
    running_rule,
    safe,
    score_class,
    short_time,
)
from tui.widgets.keyed_table import Column, KeyedTable
from tui.widgets.last_file import LastFile
from tui.widgets.score_chart import ScoreChart, Series, fit_window, since

STATUSES = [("All statuses", "all"), ("Completed", "completed"), ("Running", "running"),
            ("Pending", "pending"), ("Failed", "failed")]


def scan_labels(scan: Scan) -> list[str]:
    """Where a scan's results come from, when not from a plain scan with stock content."""
    labels = []
    if scan.tailoring_file:
        labels.append(f"tailored ({scan.tailoring_file})")
    if scan.content_derived_from:
        labels.append(f"derived from {scan.content_derived_from} content")
    if scan.origin == "import":
        labels.append(f"imported from {scan.source_file or 'a file'}")
    return labels


class ComplianceScreen(BaseScreen):
    MODE = "compliance"
    FILTER_INPUT = "scan-search"
    MAIN = "scans"
    BINDINGS = keymap.bindings("compliance")

    def __init__(self) -> None:
        super().__init__()
        self.host: str | None = None
        self.data: HostScans | None = None
        self._by_id: dict[str, Scan] = {}  # the scans listed, by id: the table asks for the rows it draws
        self._host_names: list[str] = []
        self._to_first = False  # a filter changed: the cursor goes to the first match
        self.marked: list[str] = []  # scan ids picked to compare, oldest pick first

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Horizontal(id="cards"):
            yield StatCard("Total Scans", id="card-total")
            yield StatCard("Latest Score", id="card-score")
            yield StatCard("Passed Rules", id="card-passed")
            yield StatCard("Failed Rules", id="card-failed", classes="-bad")
        yield ScoreChart(id="host-trend")
        with Horizontal(classes="toolbar"):
            yield Select([], prompt="host", id="host-select", compact=True, allow_blank=True)
            yield Select(STATUSES, value="all", allow_blank=False, id="status-select", compact=True)
            yield Input(placeholder="/ search scan id", id="scan-search", compact=True)
        yield KeyedTable([
            Column("id", "Scan ID", 8),
            Column("status", "Status", 9),
            Column("score", "Score", 5, "right"),
            Column("passed", "Pass", 4, "right", wide_label="Passed", wide_width=6),
            Column("failed", "Fail", 4, "right", wide_label="Failed", wide_width=6),
            Column("duration", "Dur s", 5, "right", wide_label="Duration", wide_width=8),
            Column("created", "Created", 16),
            Column("actions", "Actions", None, min_width=10),
        ], empty="no scans: press n for a new scan", id="scans")
        yield Static(id="scan-detail", classes="detail")
        yield LastFile(id="last-file")
        yield Footer(compact=True, show_command_palette=False)

    # ---------------------------------------------------------------- loading

    def select_host(self, host: str) -> None:
        if host != self.host and self.is_mounted:
            with self.prevent(Input.Changed):
                self.query_one("#scan-search", Input).value = ""
        self.host = host
        if self.is_mounted:
            self.reload()

    def read(self) -> Read:
        status = self.query_one("#status-select", Select).value
        return partial(host_scans, self.workspace.store, self.host, None if status == "all" else str(status),
                       self.query_one("#scan-search", Input).value.strip(), to_iso(since(self.state.clock())))

    def show(self, data: HostScans) -> bool:
        self.data = data
        self.host = data.host
        select = self.query_one("#host-select", Select)
        with select.prevent(Select.Changed):
            if self._host_names != data.hosts:
                self._host_names = list(data.hosts)
                select.set_options([(plain(name), name) for name in data.hosts])
            if data.host is not None and select.value != data.host:
                select.value = data.host
        self._show_cards(data)
        self._show_trend(data)
        table = self.query_one("#scans", KeyedTable)
        filters = self._filters()
        table.empty_text = (f"no scans match {', '.join(filters)} (esc clears)" if filters
                            else "no scans: press n for a new scan")
        self._by_id = {s.id: s for s in data.scans}
        table.set_keys(list(self._by_id), self._row_of)
        if self._to_first:
            self._to_first = False
            table.action_jump(0)
        self._show_detail()
        return data.active_jobs > 0

    def _filters(self) -> list[str]:
        """The filters in force, in words (an empty table says why it is empty)."""
        status = self.query_one("#status-select", Select).value
        search = self.query_one("#scan-search", Input).value.strip()
        self.query_one("#scan-search", Input).set_class(bool(search), "-active")
        return ([f"status {status}"] if status != "all" else []) + ([f"id {search}…"] if search else [])

    def clear_filters(self) -> bool:
        if not self._filters():
            return False
        with self.prevent(Select.Changed, Input.Changed):
            self.query_one("#status-select", Select).value = "all"
            self.query_one("#scan-search", Input).value = ""
        self.reload()
        return True

    def _show_cards(self, data: HostScans) -> None:
        latest = data.latest
        self.query_one("#card-total", StatCard).show(str(sum(data.statuses.values())))
        score = None if latest is None else latest.score
        self.query_one("#card-score", StatCard).show(
            DASH if score is None else f"{score:.1f}%", score_class(score))
        self.query_one("#card-passed", StatCard).show(
            DASH if latest is None else str(latest.counts.get("pass", 0)), "-good" if latest else None)
        self.query_one("#card-failed", StatCard).show(
            DASH if latest is None else str(latest.counts.get("fail", 0)), "-bad")

    def _show_trend(self, data: HostScans) -> None:
        by_profile = score_series(data.trend, "profile")
        now = self.state.clock()
        window = fit_window((t for points in by_profile.values() for t, _ in points), now)
        names = ", ".join(by_profile) or "no completed scans in the last 30 days"
        title = f"{data.host or 'no host'}: score, {window.label}: {names}"
        series = [Series(name, tuple(points)) for name, points in by_profile.items()]
        marks = hardened_points(data.trend, data.jobs)
        self.query_one("#host-trend", ScoreChart).show(title, series, now, marks, window,
                                                       content_changes(data.trend))

    @staticmethod
    def _progress(scan: Scan, job: Job | None) -> str:
        """The scan's rules done, as its job (this app's live one, else the store's) says."""
        if job is None or job.scan_id != scan.id:
            return f"{progress_text(scan.progress_done, scan.progress_total)} rules"
        return replace(job, progress_total=job.progress_total or scan.progress_total).progress_line

    def _row_of(self, scan_id: str) -> tuple:
        """The cells of one listed scan's row, made when the table draws it (a thousand scans
        listed cost their keys, not a thousand rows of Rich Text, on each refresh)."""
        return self._row(self._by_id[scan_id])

    def _row(self, scan: Scan) -> tuple:
        palette = self.palette
        stored = self.data.jobs if self.data else {}  # the store's jobs of the scans shown
        if scan.status is ScanStatus.COMPLETED and scan.id in self.marked:
            actions = palette.text("✓ marked: C compares", "text-accent", bold=True)
        elif scan.status is ScanStatus.COMPLETED:
            actions = palette.text("⏎ Results  o Report", "text-accent")
        elif scan.status is ScanStatus.RUNNING:
            job = self.jobs.for_scan(scan.id) or stored.get(scan.id)
            now = running_rule(job)
            actions = palette.text(self._progress(scan, job) + (f" · {now}" if now else ""), "text-primary")
        elif scan.status is ScanStatus.PENDING:
            job = stored.get(scan.id)
            waiting = "queued in this app" if job and job.lease_owner else "waiting for a worker"
            actions = palette.muted(waiting)
        else:
            actions = palette.text(f"⏎ Job output · {scan.error_message or 'failed'}", "text-error")
        counts = scan.counts if scan.status is ScanStatus.COMPLETED else {}
        return (
            plain(scan.short_id), palette.status(scan), palette.score(scan.score),
            palette.count(counts.get("pass")), palette.count(counts.get("fail"), "text-error"),
            duration(scan), short_time(scan.created_at), actions,
        )

    # ---------------------------------------------------------------- selection and detail

    def _current(self) -> Scan | None:
        key = self.query_one("#scans", KeyedTable).cursor_key
        if self.data is None or key is None:
            return None
        return self._by_id.get(key)

    @on(KeyedTable.Highlighted, "#scans")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        scan = self._current()
        detail = self.query_one("#scan-detail", Static)
        palette = self.palette
        if scan is None:
            detail.update("" if self.data is None or self.data.host else
                          "no hosts yet: add one on Hosts (2)")
            return
        line = Text(no_wrap=scan.status is not ScanStatus.FAILED, overflow="ellipsis")
        line.append(f"{scan.short_id} · {profile_title(scan.profile)}")
        if scan.content_file:
            line.append(f" · {scan.content_file}")
        for label in scan_labels(scan):
            line.append(" · ")
            line.append_text(palette.text(label, "text-accent"))
        if scan.status is ScanStatus.FAILED:
            line.append(" · ")
            line.append_text(palette.text(f"error: {scan.error_message or 'unknown'}", "text-error"))
        elif scan.notice:
            line.append(" · ")
            line.append_text(palette.text(scan.notice, "text-warning"))
        elif scan.status is ScanStatus.COMPLETED:
            line.append(f" · {scan.total} rules")
        detail.update(safe(line))
        detail.tooltip = plain(scan.error_message or scan.notice) if (scan.error_message or scan.notice) else None

    # ---------------------------------------------------------------- toolbar

    @on(Select.Changed, "#host-select")
    def _host_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK and event.value != self.host:
            self.host = str(event.value)
            with self.prevent(Input.Changed):  # a scan id belongs to one host: its search goes
                self.query_one("#scan-search", Input).value = ""
            self.reload()
        self.query_one("#scans").focus()  # back to the table: enter opens results again

    @on(Select.Changed, "#status-select")
    @on(Input.Changed, "#scan-search")
    def _filter_changed(self) -> None:
        self._to_first = True
        self.reload()

    @on(Input.Submitted, "#scan-search")
    def _search_done(self) -> None:
        self.query_one("#scans").focus()

    def action_choose_host(self) -> None:
        select = self.query_one("#host-select", Select)
        select.focus()
        select.action_show_overlay()

    def action_cycle_status(self) -> None:
        select = self.query_one("#status-select", Select)
        values = [v for _label, v in STATUSES]
        select.value = values[(values.index(str(select.value)) + 1) % len(values)]

    # ---------------------------------------------------------------- actions

    def _completed(self, what: str) -> Scan | None:
        scan = self._current()
        if scan is None:
            return None
        if scan.status is not ScanStatus.COMPLETED:
            reason = f": {scan.error_message}" if scan.status is ScanStatus.FAILED else ""
            self.notify(f"{what} exist only for completed scans; {scan.short_id} is "
                        f"{scan.status.value}{reason}", severity="warning")
            return None
        return scan

    def action_results(self) -> None:
        scan = self._current()
        if scan is not None and scan.status is ScanStatus.FAILED and scan.origin == "scan":
            self.show_job(scan.id)  # the spec's "Review error message in Jobs page"
            return
        scan = self._completed("Results")
        if scan is not None:
            self.app.push_screen(ResultsScreen(scan))

    @work(group="job", exclusive=True, exit_on_error=False)
    async def show_job(self, scan_id: str) -> None:
        from tui.modals.job_detail import JobDetailModal

        job = await self.workspace.store.job_for_scan(scan_id)
        if job is None:
            self.notify("this scan has no job record (it ran before jobs existed)", severity="warning")
            return
        self.app.push_screen(JobDetailModal(job.id))

    @on(KeyedTable.Chosen, "#scans")
    def _chosen(self) -> None:
        self.action_results()

    def action_mark(self) -> None:
        scan = self._completed("Comparisons")
        if scan is None or self.data is None:
            return
        table = self.query_one("#scans", KeyedTable)
        if scan.id in self.marked:
            self.marked.remove(scan.id)
        else:
            self.marked = [*self.marked, scan.id][-2:]
        for other in self.data.scans:  # drawn again from _row_of, with the marks as they are now
            table.update_row(other.id)
        table.action_cursor(1)

    def action_compare(self) -> None:
        marked = [m for m in self.marked if any(s.id == m for s in self.data.scans)] if self.data else []
        if len(marked) == 2:
            self.marked = []
            self.reload()
            self.app.push_screen(CompareScreen(*marked))
            return
        scan = self._completed("Comparisons")
        if scan is not None:
            self.compare_previous(scan)

    @work(group="compare", exclusive=True, exit_on_error=False)
    async def compare_previous(self, scan: Scan) -> None:
        older = await previous_scan(self.workspace.store, scan)
        self.app.push_screen(CompareScreen(older.id, scan.id))

    def action_report(self) -> None:
        scan = self._completed("Reports")
        if scan is not None:
            self.notify(f"{scan.short_id}: writing the report…", timeout=3)
            self.report(scan.id)

    @work(group="report", exit_on_error=False)
    async def report(self, scan_id: str) -> None:
        message, path = await open_report(self.workspace, scan_id)
        self.query_one(LastFile).show(path)
        self.notify(message, timeout=8)

    def action_verify(self) -> None:
        scan = self._completed("Signatures")
        if scan is not None:
            self.verify(scan)

    @work(group="verify", exclusive=True, exit_on_error=False)
    async def verify(self, scan: Scan) -> None:
        """What `evidence verify SCAN` says, with this installation's public key."""
        from core.results.verification import FAILED, installation_keys, summary, verify_scan

        workspace = self.workspace
        keys = await asyncio.to_thread(installation_keys, workspace.data_dir, workspace.settings.evidence.signing_key)
        verdict = await verify_scan(workspace, scan.id, keys)
        lines = [summary(verdict), *verdict.problems[1:], *verdict.notes[1:]]
        self.app.push_screen(MessageModal("\n".join(lines), title=f"Evidence of scan {scan.short_id} ({scan.host_name})",
                                          danger=verdict.status == FAILED))

    def action_new_scan(self) -> None:
        self.app.push_screen(NewScanModal(self.host))

    def action_import(self) -> None:
        def imported(scans: list[Scan] | None) -> None:
            if scans:
                self.select_host(scans[0].host_name)

        self.app.push_screen(ImportResultsModal(self.host), imported)

    def action_export(self, fmt: str) -> None:
        if self.host is None:
            self.notify("no host selected: nothing to export", severity="warning")
            return
        status = self.query_one("#status-select", Select).value
        self.export(fmt, self.host, None if status == "all" else str(status))

    @work(group="export", exit_on_error=False)
    async def export(self, fmt: str, host: str, status: str | None) -> None:
        message, path = await export_scans(self.workspace, fmt, host, status)
        self.query_one(LastFile).show(path)
        self.notify(message, timeout=8)

    def on_job_event(self, event: JobEvent) -> None:
        table = self.query_one("#scans", KeyedTable)
        job = event.job
        if event.kind == "progress":
            scan = self._by_id.get(job.scan_id) if job.scan_id else None
            if scan is not None:  # a scan the filters hide stays hidden: no reload per rule
                scan.status = ScanStatus.RUNNING
                table.update_row(scan.id)  # drawn again from _row_of, with the live job
        elif job.host_name == self.host or self.host is None:
            self.reload()
