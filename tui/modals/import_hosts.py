"""Import hosts from ~/.ssh/config or an Ansible inventory: preview first, add what you keep."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from core.domain.errors import OperatorError
from core.hosts import importing
from core.hosts.candidates import Found
from core.hosts.kinds import ANSIBLE_INI, ANSIBLE_YAML, SSH_CONFIG
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.common.words import plural
from tui.services.remote import add_host
from tui.widgets.cells import DASH, plain
from tui.widgets.keyed_table import Column, KeyedTable

KINDS = [("detect from the file", "auto"), ("SSH client config", SSH_CONFIG),
         ("Ansible INI", ANSIBLE_INI), ("Ansible YAML", ANSIBLE_YAML)]


class ImportHostsModal(BaseModal):
    """Dismisses with the number of hosts added (0 or None when nothing was)."""

    BINDINGS = keymap.bindings("import_hosts")

    class Previewed(Message):
        def __init__(self, found: list[Found], warnings: list[str], kind: str):
            super().__init__()
            self.found, self.warnings, self.kind = found, warnings, kind

    class Failed(Message):
        def __init__(self, error: str):
            super().__init__()
            self.error = error

    def __init__(self, path: str = "~/.ssh/config"):
        super().__init__()
        self.path = path
        self.found: list[Found] = []
        self.chosen: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog import") as box:
            box.border_title = "Import hosts"
            with Horizontal(classes="toolbar"):
                yield Input(self.path, placeholder="file: ~/.ssh/config or an inventory", id="path",
                            compact=True)
                yield Select(KINDS, value="auto", allow_blank=False, id="kind", compact=True)
            yield Label("enter reads the file; nothing is added before you confirm", id="import-note")
            yield KeyedTable([
                Column("sel", " ", 1),
                Column("name", "Name", None, min_width=10),
                Column("address", "Address", 16),
                Column("port", "Port", 5, "right"),
                Column("user", "User", 8),
                Column("note", "Note", 18),
            ], empty="no preview yet", id="preview")
            yield Static(id="import-error", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button("Add selected (ctrl+s)", id="add", variant="primary", compact=True,
                             disabled=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Input.Submitted, "#path")
    @on(Select.Changed, "#kind")
    def _read(self) -> None:
        kind = self.query_one("#kind", Select).value
        self.preview(self.query_one("#path", Input).value, None if kind == "auto" else str(kind))

    @work(group="preview", exclusive=True, exit_on_error=False)
    async def preview(self, path: str, kind: str | None) -> None:
        try:  # the same reading and checks as `compliance-tui hosts import`
            parsed = await importing.preview(self.workspace, path, kind, home=Path.home())
        except OperatorError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Previewed(parsed.found, parsed.warnings, parsed.kind))

    def on_import_hosts_modal_failed(self, message: Failed) -> None:
        self.query_one("#import-error", Static).update(self.palette.text(message.error, "text-error"))

    def on_import_hosts_modal_previewed(self, message: Previewed) -> None:
        self.found = message.found
        self.chosen = {f.host.name for f in self.found if f.problem is None}
        usable = len(self.chosen)
        kind = dict((v, k) for k, v in KINDS)[message.kind]
        self.query_one("#import-note", Label).update(
            plain(f"{kind}: {plural(len(self.found), 'host')}, {usable} can be added; space toggles one"))
        error = "; ".join(message.warnings[:2])
        self.query_one("#import-error", Static).update(self.palette.text(error, "text-warning"))
        self._render_rows()
        table = self.query_one("#preview", KeyedTable)
        table.empty_text = "no hosts found in this file"
        table.focus()

    def _render_rows(self) -> None:
        palette = self.palette
        rows = []
        for item in self.found:
            host = item.host
            mark = palette.text("✓", "text-accent", bold=True) if host.name in self.chosen else ""
            note = (palette.text(item.problem, "text-warning") if item.problem
                    else palette.muted(item.origin))
            rows.append((host.name, (mark, plain(host.name), plain(host.address), str(host.port),
                                     plain(host.username or DASH), note)))
        self.query_one("#preview", KeyedTable).set_rows(rows)
        button = self.query_one("#add", Button)
        button.label = f"Add selected ({len(self.chosen)}) (ctrl+s)"
        button.disabled = not self.chosen

    def action_select(self) -> None:
        table = self.query_one("#preview", KeyedTable)
        key = table.cursor_key
        item = next((f for f in self.found if f.host.name == key), None)
        if item is None:
            return
        if item.problem:
            self.notify(f"{key} cannot be added: {item.problem}", severity="warning")
            return
        self.chosen ^= {item.host.name}
        self._render_rows()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self.action_add()
        else:
            self.dismiss(None)

    def action_add(self) -> None:
        if self.chosen:
            self.add([f for f in self.found if f.host.name in self.chosen])

    @work(group="add", exclusive=True, exit_on_error=False)
    async def add(self, items: list[Found]) -> None:
        added, failed = 0, []
        for item in items:
            try:
                await add_host(self.workspace, item.host)
                added += 1
            except OperatorError as exc:
                failed.append(f"{item.host.name}: {exc}")
        message = f"imported {added} host{'s' if added != 1 else ''}"
        if failed:
            message += f"; {len(failed)} not added: " + "; ".join(failed[:3])
        self.notify(message, severity="warning" if failed else "information")
        self.dismiss(added)
