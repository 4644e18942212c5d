"""Hosts: add, edit, delete, detect, check, trust, import, and scan several at once."""

from __future__ import annotations

from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Input, Static

from core.domain.events import JobEvent
from core.domain.models import Host, JobStatus
from core.views.summaries import HostRow, HostsView, hosts_view
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.common.words import plural
from tui.modals.bulk_scan import BulkScanModal
from tui.modals.check_report import CheckReportModal
from tui.modals.confirm import ConfirmModal
from tui.modals.host_form import HostFormModal
from tui.modals.import_hosts import ImportHostsModal
from tui.modals.message import MessageModal
from tui.modals.new_scan import NewScanModal
from tui.services import remote
from tui.widgets.cards import NavBar
from tui.widgets.cells import DASH, os_label, plain, progress_text, short_time
from tui.widgets.keyed_table import Column, KeyedTable

STATUS_VARS = {"online": "text-success", "offline": "text-error"}


def columns(zones: bool) -> list[Column]:
    """The Zone column only once a host has a zone: at 80 columns its room goes to the address,
    which gets the most of the rest (db01.example.com:2222 whole) and is cut in the middle, so
    its port stays in view."""
    return [
        Column("sel", " ", 1),
        Column("name", "Name", None, min_width=8, flex=2),
        Column("address", "Address", None, min_width=12, flex=3, cut="middle"),
        Column("user", "User", 8),
        Column("os", "OS", None, min_width=12, flex=2),
        Column("status", "Status", 7),  # online, offline, unknown; pending, running
        *([Column("zone", "Zone", 7)] if zones else []),
        Column("score", "Score", 8, "right"),  # 58.3, ⟳160/403
    ]


class HostsScreen(BaseScreen):
    MODE = "hosts"
    FILTER_INPUT = "host-filter"
    MAIN = "hosts"
    BINDINGS = keymap.bindings("hosts")

    def __init__(self) -> None:
        super().__init__()
        self.selected: set[str] = set()
        self.data: HostsView | None = None
        self.rows: dict[str, HostRow] = {}
        self._move_to: str | None = None  # a host to put the cursor on after the next load
        self._to_first = False  # the filter changed: the cursor goes to the first match
        self._zones = False  # the Zone column is shown

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Horizontal(classes="toolbar"):
            yield Input(placeholder="/ filter: name, address, user, OS", id="host-filter", compact=True)
            yield Button("Import i", id="import", compact=True)
            yield Button("Bulk Scan (0) b", id="bulk", compact=True, disabled=True)
        yield KeyedTable(columns(zones=False), empty="no hosts: press a to add one, or i to import", id="hosts")
        yield Static(id="host-detail", classes="detail")
        yield Footer(compact=True, show_command_palette=False)

    # ---------------------------------------------------------------- loading

    def read(self) -> Read:
        return partial(hosts_view, self.workspace.store, self.query_one("#host-filter", Input).value.strip())

    @on(Input.Changed, "#host-filter")
    def _filter_changed(self) -> None:
        self._to_first = True
        self.reload()

    def clear_filters(self) -> bool:
        field = self.query_one("#host-filter", Input)
        if not field.value.strip():
            return False
        field.value = ""  # Input.Changed reloads
        return True

    @on(Input.Submitted, "#host-filter")
    def _filter_done(self) -> None:
        self.query_one("#hosts").focus()

    def show(self, data: HostsView) -> bool:
        self.data = data
        self.rows = {row.host.name: row for row in self.data.rows}
        self.selected &= set(self.rows)
        table = self.query_one("#hosts", KeyedTable)
        search = self.query_one("#host-filter", Input).value.strip()
        self.query_one("#host-filter", Input).set_class(bool(search), "-active")
        table.empty_text = (f"no hosts match '{search}' (esc clears)" if search
                            else "no hosts: press a to add one, or i to import")
        zones = any(row.host.zone for row in self.data.rows)
        if zones != self._zones:
            self._zones, table.columns = zones, columns(zones)
        # rows are made as the table draws them: 500 hosts cost their keys, not 500 rows of cells
        table.set_keys([row.host.name for row in self.data.rows], lambda name: self._row(self.rows[name].host)[1])
        if self._move_to and table.move_to(self._move_to):
            self._move_to = None
        elif self._to_first:
            table.action_jump(0)
        self._to_first = False
        self._show_selection()
        self._show_detail()
        return self.data.active_jobs > 0

    def _row(self, host: Host) -> tuple[str, tuple]:
        palette = self.palette
        row = self.rows[host.name]
        score = palette.score(row.latest.score if row.latest else None)
        job = self.jobs.for_host(host.name) or row.active
        if job is not None and job.status is JobStatus.RUNNING:
            done = progress_text(job.progress_done, job.progress_total).replace(" ", "")
            score = palette.text(f"⟳{done}", "text-primary")
        elif job is not None:
            score = palette.text(job.status.value, "text-primary")
        address = host.address if host.port == 22 else host.endpoint
        if host.transport == "local":
            address = "this machine"
        return host.name, (
            palette.text("✓", "text-accent", bold=True) if host.name in self.selected else "",
            plain(host.name), plain(address), plain(host.username or DASH),
            plain(os_label(host)) if os_label(host) else palette.muted("unknown"),
            palette.text(host.status, STATUS_VARS.get(host.status, "foreground-muted")),
            *([plain(host.zone) if host.zone else palette.muted(DASH)] if self._zones else []),
            score,
        )

    # ---------------------------------------------------------------- detail and selection

    def _current(self) -> Host | None:
        row = self.rows.get(self.query_one("#hosts", KeyedTable).cursor_key or "")
        return row.host if row else None

    @on(KeyedTable.Highlighted, "#hosts")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        host = self._current()
        detail = self.query_one("#host-detail", Static)
        if host is None:
            detail.update("")
            return
        count, latest = self.rows[host.name].scans, self.rows[host.name].latest
        parts = [host.os_name or "OS not detected (O)",
                 plural(count, "scan")]
        if latest:
            parts.append(f"last completed {short_time(latest.created_at)}")
        if host.identity_file:
            parts.append(f"key {host.identity_file}")
        detail.update(plain(f"{host.name}: " + " · ".join(parts), no_wrap=True, overflow="ellipsis"))

    def _show_selection(self) -> None:
        button = self.query_one("#bulk", Button)
        button.label = f"Bulk Scan ({len(self.selected)}) b"
        button.disabled = not self.selected

    def action_select(self) -> None:
        host = self._current()
        if host is None:
            return
        self.selected ^= {host.name}
        table = self.query_one("#hosts", KeyedTable)
        table.update_row(host.name, self._row(host)[1])
        self._show_selection()

    # ---------------------------------------------------------------- add, edit, delete

    def action_add(self) -> None:
        self.app.push_screen(HostFormModal(None, self._save_new), self._saved)

    def action_edit(self) -> None:
        host = self._current()
        if host is not None:
            self.app.push_screen(HostFormModal(host, self._save_edit), self._saved)

    async def _save_new(self, host: Host) -> Host:
        return await remote.add_host(self.workspace, host)

    async def _save_edit(self, host: Host) -> Host:
        return await remote.update_host(self.workspace, host)

    def _saved(self, host: Host | None) -> None:
        if host is not None:
            self.notify(f"saved {host.name}; next: c to check it, O to detect its OS")
            self._move_to = host.name
            self.reload()

    def action_delete(self) -> None:
        host = self._current()
        if host is None:
            return
        count = self.rows[host.name].scans
        what = (f"With it go its {plural(count, 'scan')}, their results and evidence."
                if count else "It has no scans.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(host.name)

        self.app.push_screen(ConfirmModal(
            f"Delete host {host.name}? {what} The host itself is not touched.",
            confirm="Delete", title="Delete host", danger=True), answered)

    @work(group="host-action", exit_on_error=False)
    async def delete(self, name: str) -> None:
        removed = await remote.remove_host(self.workspace, name)
        self.selected.discard(name)
        self.notify(f"deleted {name} and its {plural(removed, 'scan')}")
        self.reload()

    # ---------------------------------------------------------------- detect, check, trust

    def action_detect(self) -> None:
        host = self._current()
        if host is not None:
            self.notify(f"{host.name}: detecting the OS…", timeout=3)
            self.detect(host.name)

    @work(group="host-action", exit_on_error=False)
    async def detect(self, name: str) -> None:
        try:
            host = await remote.detect_os(self.workspace, name)
            self.notify(f"{name}: {host.os_name}")
        finally:
            self.reload()

    def action_check(self) -> None:
        host = self._current()
        if host is not None:
            self.notify(f"{host.name}: checking SSH, sudo and oscap…", timeout=3)
            self.check(host.name)

    @work(group="host-action", exit_on_error=False)
    async def check(self, name: str) -> None:
        try:
            report = await remote.check_host(self.workspace, name)
            self.app.push_screen(CheckReportModal(report))
        finally:
            self.reload()

    def action_trust(self) -> None:
        host = self._current()
        if host is not None:
            self.fetch_key(host.name)

    @work(group="host-action", exit_on_error=False)
    async def fetch_key(self, name: str) -> None:
        presented = await remote.host_key(self.workspace, name)
        host = presented.host
        if presented.trusted:
            self.notify(f"{name}: its host key is trusted already ({presented.fingerprint})")
            return
        if presented.changed:  # said before anything is asked: a changed key is never trusted here
            self.app.push_screen(MessageModal(
                f"{name} ({host.endpoint}) now presents\n\n{presented.fingerprint}\n\n"
                f"but {remote.known_hosts_path(host)} holds a DIFFERENT key for it. That is what a "
                "machine in the middle looks like. If the change is expected (the host was reinstalled), "
                "remove the old line from known_hosts yourself, then trust the new key.",
                title="HOST KEY CHANGED", danger=True))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._trust(presented)

        self.app.push_screen(ConfirmModal(
            f"{name} ({host.endpoint}) presents\n\n{presented.fingerprint}\n\n"
            f"Trust it only if this fingerprint is the host's real key. It is added to "
            f"{remote.known_hosts_path(host)}.", confirm="Trust", title="Trust host key"), answered)

    @work(group="host-action", exit_on_error=False)
    async def _trust(self, presented) -> None:
        host = presented.host
        try:
            path = await remote.trust_key(self.workspace, presented)
        except Exception as exc:  # HostKeyChanged and file errors: say so
            self.notify(str(exc), severity="error", timeout=12)
            return
        self.notify(f"{host.name}: key trusted, added to {path}")

    # ---------------------------------------------------------------- scans and import

    def action_open_scans(self) -> None:
        host = self._current()
        if host is not None:
            self.state.open_compliance(host.name)

    @on(KeyedTable.Chosen, "#hosts")
    def _chosen(self) -> None:
        self.action_open_scans()

    def action_new_scan(self) -> None:
        host = self._current()
        if host is not None:
            self.app.push_screen(NewScanModal(host.name))

    @on(Button.Pressed, "#bulk")
    def action_bulk_scan(self) -> None:
        if not self.selected or self.data is None:
            self.notify("select hosts with space first; then b scans them all", severity="warning")
            return
        hosts = [row.host for row in self.data.rows if row.host.name in self.selected]
        self.app.push_screen(BulkScanModal(hosts), self._bulk_started)

    def _bulk_started(self, started: bool | None) -> None:
        if started:
            self.selected.clear()
            self.reload()

    def action_harden(self) -> None:
        from tui.modals.harden import HardenModal

        hosts = [row.host for row in self.data.rows if row.host.name in self.selected] if self.data else []
        current = self._current()
        if not hosts and current is not None:
            hosts = [current]
        if hosts:
            self.app.push_screen(HardenModal(hosts), lambda jobs: self._bulk_started(bool(jobs)))

    @on(Button.Pressed, "#import")
    def action_import(self) -> None:
        def imported(added: int | None) -> None:
            if added:
                self.reload()

        self.app.push_screen(ImportHostsModal(), imported)

    def on_job_event(self, event: JobEvent) -> None:
        if self.data is None:
            return
        if event.kind == "progress":
            if event.job.host_name in self.rows:
                self.query_one("#hosts", KeyedTable).update_row(
                    event.job.host_name, self._row(self.rows[event.job.host_name].host)[1])
        else:
            self.reload()
