"""The Textual app. Until the dashboard lands it shows hosts and recent scans, read-only."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from core.workspace import Workspace


class ComplianceApp(App):
    TITLE = "compliance-tui"
    BINDINGS = [("r", "refresh", "Refresh"), ("q", "quit", "Quit")]

    def __init__(self, data_dir: Path):
        super().__init__()
        self.data_dir = data_dir

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Hosts", classes="heading")
        yield DataTable(id="hosts", cursor_type="row")
        yield Static("Recent scans", classes="heading")
        yield DataTable(id="scans", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#hosts", DataTable).add_columns("Name", "Address", "OS", "Status")
        self.query_one("#scans", DataTable).add_columns(
            "Scan ID", "Host", "Profile", "Status", "Score", "Passed", "Failed", "Created")
        self.action_refresh()

    @work(group="store", exclusive=True, exit_on_error=False)
    async def action_refresh(self) -> None:
        async with await Workspace.open(self.data_dir) as workspace:
            hosts = await workspace.store.list_hosts()
            scans = await workspace.store.list_scans(limit=50)
        host_table = self.query_one("#hosts", DataTable)
        host_table.clear()
        for h in hosts:
            host_table.add_row(h.name, f"{h.address}:{h.port}", h.os_name or "-", h.status, key=h.name)
        scan_table = self.query_one("#scans", DataTable)
        scan_table.clear()
        for s in scans:
            scan_table.add_row(
                s.short_id, s.host_name, s.profile, s.status.value,
                "-" if s.score is None else f"{s.score:.1f}",
                s.counts.get("pass", "-"), s.counts.get("fail", "-"),
                (s.created_at or "")[:19].replace("T", " "), key=s.id,
            )


def run_app(data_dir: Path) -> None:
    ComplianceApp(data_dir).run()
