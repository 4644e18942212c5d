"""`?`: every key of the screen underneath, including those the footer has no room for."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.base.modal import BaseModal
from tui.common import keymap

GENERIC = {"app.focus_next", "app.focus_previous", "focus_next", "focus_previous", "screen.copy_text",
           "copy_text", "maximize", "minimize", "screen.maximize", "screen.minimize"}


class HelpModal(BaseModal):
    BINDINGS = keymap.bindings("help")

    def __init__(self, screen: Screen):
        super().__init__()
        self.under = screen
        # read now, while the screen underneath is the active one (its checks depend on it)
        self.entries: list[tuple[str, str, str]] = self._collect()  # (group, key, description)

    def _collect(self) -> list[tuple[str, str, str]]:
        groups: dict[str, dict[tuple[str, str], list[str]]] = {
            "This screen": {}, "Table": {}, "Everywhere": {}}
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action.startswith(("scroll_", "go(", "command_palette")):
                continue  # the number keys and the palette get one line each, below
            node = active.node
            if node is self.under.app or binding.action in GENERIC:
                group = "Everywhere"
            elif node is self.under:
                group = "This screen"
            else:
                group = "Table"
            text = binding.tooltip or binding.description
            groups[group].setdefault((binding.action, text), []).append(keymap.key_label(key))
        groups["Everywhere"][("palette", "Command palette: every screen and action by name")] = ["ctrl+p"]
        groups["Everywhere"][("go", "Dashboard, Hosts, Compliance, Jobs, Schedules, Settings")] = ["1-6"]
        return [(title, ", ".join(keys), description)
                for title, rows in groups.items() for (_action, description), keys in rows.items()]

    def compose(self) -> ComposeResult:
        palette = self.palette
        table = Table.grid(padding=(0, 2))
        table.add_column(style=palette.style("text-accent", bold=True), no_wrap=True)
        table.add_column()
        group = None
        for title, keys, description in self.entries:
            if title != group:
                if group is not None:
                    table.add_row("", "")
                table.add_row(Text(title, style=palette.style("text-primary", bold=True)), "")
                group = title
            table.add_row(keys, description)
        with VerticalScroll(classes="dialog help") as box:
            box.border_title = f"Keys: {self.under.__class__.__name__.removesuffix('Screen')}"
            yield Static(table)
