"""Settings: where data lives, which content is installed, scan limits (read-only), and the AI
assistant (a: its settings, t: test it, u: usage per day and model)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Footer, Static

from core import paths
from core.ai.secrets import ApiKey, find_key_async
from core.content.catalog import SHORT_NAME_TITLES, Datastream, load_catalog
from core.domain.explanations import AiUsage
from core.domain.settings import config_path, safe_url
from core.domain.store_url import masked
from core.domain.text import neutralise
from tui.base.screen import BaseScreen
from tui.common import keymap
from tui.widgets.cards import NavBar
from tui.widgets.keyed_table import Column, KeyedTable


class SettingsScreen(BaseScreen):
    MODE = "settings"
    MAIN = "content"
    BINDINGS = keymap.bindings("settings")

    class AiFacts(Message):
        def __init__(self, key: ApiKey, usage: list[AiUsage]):
            super().__init__()
            self.key, self.usage = key, usage

    class Discovered(Message):
        def __init__(self, datastreams: list[Datastream], warnings: list[str]):
            super().__init__()
            self.datastreams, self.warnings = datastreams, warnings

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield Static(id="settings-facts", markup=False)  # paths may hold brackets
        yield Static(id="ai-facts")
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
        workspace = self.workspace
        dirs = "\n".join(
            f"  {tilde(d)}" + ("" if d.is_dir() else "  (not there yet)") for d in workspace.content_dirs)
        url = workspace.settings.store_url
        database = f"PostgreSQL {masked(url)}" if url else tilde(paths.database(workspace.data_dir))
        facts = (
            f"Data dir       {tilde(workspace.data_dir)}\n"
            f"Database       {database}\n"
            f"Scan timeout   {workspace.settings.scan_timeout} s    Concurrent jobs  "
            f"{workspace.settings.max_concurrent}    Lease  {workspace.settings.lease_seconds:.0f} s\n"
            f"Config file    {tilde(config_path())}\n"
            f"Content dirs\n{dirs}"
        )
        self.query_one("#settings-facts", Static).update(neutralise(facts))

    def reload(self) -> None:
        self.discover()
        self.load_ai()

    def action_reload(self) -> None:
        self.discover()

    # ---------------------------------------------------------------- AI assistant

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "ai_test":
            return self.workspace.settings.ai.configured
        return True

    def action_ai_settings(self, test_now: bool = False) -> None:
        from tui.modals.ai_settings import AiSettingsModal

        def closed(saved: bool | None) -> None:
            self.refresh_bindings()  # Test AI shows once a model is named
            self.load_ai()

        self.app.push_screen(AiSettingsModal(test_now), closed)

    def action_ai_test(self) -> None:
        self.action_ai_settings(test_now=True)

    def action_ai_usage(self) -> None:
        from tui.modals.ai_usage import AiUsageModal

        self.app.push_screen(AiUsageModal())

    @work(group="ai-facts", exclusive=True, exit_on_error=False)
    async def load_ai(self) -> None:
        since = (datetime.now(timezone.utc) - timedelta(days=29)).strftime("%Y-%m-%d")
        usage = await self.workspace.store.ai_usage(since=since)
        self.post_message(self.AiFacts(await find_key_async(), usage))

    def on_settings_screen_ai_facts(self, message: AiFacts) -> None:
        ai, key = self.workspace.settings.ai, message.key
        if ai.configured:
            lines = [f"AI assistant   {ai.model} at {safe_url(ai.url)} · timeout {ai.timeout:g} s",
                     "               API key " + (f"{key.masked()} from {key.source}" if key.value
                                                     else "none (fine for a local server)")]
        else:
            lines = ["AI assistant   off: no model named (a sets one up, or $COMPLIANCE_TUI_LLM_MODEL)"]
        today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        if message.usage:
            lines.append(f"AI usage       today {_usage([u for u in message.usage if u.day == today])}"
                         f" · 30 days {_usage(message.usage)}")
        self.query_one("#ai-facts", Static).update(Text("\n".join(lines)))

    @work(group="content", exclusive=True, exit_on_error=False)
    async def discover(self) -> None:
        found = await self.state.datastreams()
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


def _usage(rows: list[AiUsage]) -> str:
    requests = sum(u.requests for u in rows)
    tokens = sum(u.input_tokens + u.output_tokens for u in rows)
    return f"{requests} request{'s' if requests != 1 else ''}, {tokens:,} tokens"


def _cis_titles(ds: Datastream) -> list[str]:
    """The CIS profiles the catalog expects in this product that the file really has."""
    titles: set[str] = set()
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
