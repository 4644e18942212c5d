"""Settings, read-only: where data lives, which content is installed, scan limits."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Static

from core import paths
from core.content.catalog import SHORT_NAME_TITLES, Datastream, load_catalog
from core.domain.settings import config_path
from core.domain.text import neutralise
from tui.screens.base import BaseScreen
from tui.widgets.cards import NavBar
from tui.widgets.keyed_table import Column, KeyedTable


class SettingsScreen(BaseScreen):
    MODE = "settings"
    MAIN = "content"
    BINDINGS = [Binding("r", "reload", "Rescan content")]

    class Discovered(Message):
        def __init__(self, datastreams: list[Datastream], warnings: list[str]):
            super().__init__()
            self.datastreams, self.warnings = datastreams, warnings

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield Static(id="settings-facts", markup=False)  # paths may hold brackets
        yield Static("Installed SCAP content", classes="section-title")
        yield KeyedTable([
            Column("product", "Product", 12),
            Column("ssg", "SSG", 7),
            Column("cis", "CIS Server profiles", None, min_width=12),
            Column("file", "File", 26),
        ], empty="discovering content…", id="content")
        yield Static(id="content-warnings", markup=False)  # they name files
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        workspace = self.app.workspace
        dirs = "\n".join(
            f"  {d}" + ("" if d.is_dir() else "  (not there yet)") for d in workspace.content_dirs)
        facts = (
            f"Data dir       {workspace.data_dir}\n"
            f"Database       {paths.database(workspace.data_dir)}\n"
            f"Scan timeout   {workspace.settings.scan_timeout} s    Concurrent jobs  "
            f"{workspace.settings.max_concurrent}    Lease  {workspace.settings.lease_seconds:.0f} s\n"
            f"Config file    {tilde(config_path())}\n"
            f"AI assistant   not yet available (a later release adds LLM settings)\n"
            f"Content dirs\n{dirs}"
        )
        self.query_one("#settings-facts", Static).update(neutralise(facts))

    def reload(self) -> None:
        self.discover()

    def action_reload(self) -> None:
        self.discover()

    @work(group="content", exclusive=True, exit_on_error=False)
    async def discover(self) -> None:
        found = await self.app.datastreams()
        self.post_message(self.Discovered(list(found), list(getattr(found, "warnings", []))))

    def on_settings_screen_discovered(self, message: Discovered) -> None:
        rows = []
        for ds in sorted(message.datastreams, key=lambda d: (not _cis_titles(d), d.product, d.version)):
            cis = _cis_titles(ds)
            rows.append((str(ds.path), (ds.product, ds.version, ", ".join(cis) or "—", ds.path.name)))
        table = self.query_one("#content", KeyedTable)
        table.empty_text = "no datastreams found: install the ssg-* packages or `compliance-tui content import`"
        table.set_rows(rows)
        warnings = self.query_one("#content-warnings", Static)
        warnings.update(neutralise("\n".join(message.warnings[:3])))
        warnings.display = bool(message.warnings)


def _cis_titles(ds: Datastream) -> list[str]:
    """The CIS profiles the catalog expects in this product that the file really has."""
    titles = set()
    for entry in load_catalog():
        if entry.product == ds.product:
            titles.update(SHORT_NAME_TITLES[short] for short, pid in entry.profiles.items()
                          if pid in ds.profiles)
    levels = sorted(t.removeprefix("CIS ").removesuffix(" Server") for t in titles)
    return [" and ".join(levels)] if levels else []


def tilde(path) -> str:
    """The path with the home directory as ~ (shorter at 80 columns)."""
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if home != "/" and text.startswith(home + "/") else text
