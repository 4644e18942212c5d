"""Import results produced elsewhere (ARF or XCCDF, plain, .gz or .bz2) as scans of a host."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from core.domain.errors import OperatorError
from core.domain.models import Scan
from core.results import importer
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.common.words import plural, said
from tui.modals.confirm import ConfirmModal
from tui.widgets.cells import plain
from tui.widgets.tick import Tick

SUFFIXES = (".xml", ".xml.gz", ".xml.bz2")
MAX_LISTED = 100  # a picker, not a file manager: type more of the name to narrow it


def list_directory(typed: str) -> tuple[Path, list[str], int]:
    """(directory, entries, how many more) for what is typed: subdirectories end in '/'."""
    path = Path(typed or ".").expanduser()
    directory, prefix = (path, "") if typed.endswith("/") or path.is_dir() else (path.parent, path.name)
    entries = []
    try:
        for item in sorted(directory.iterdir(), key=lambda p: p.name):
            name = item.name
            if not name.startswith(prefix) or (name.startswith(".") and not prefix.startswith(".")):
                continue
            if item.is_dir():
                entries.append(name + "/")
            elif name.endswith(SUFFIXES):
                entries.append(name)
    except OSError:
        return directory, [], 0
    return directory, entries[:MAX_LISTED], max(0, len(entries) - MAX_LISTED)


class ImportResultsModal(BaseModal):
    """Dismisses with the imported scans, or None when cancelled."""

    BINDINGS = keymap.bindings("import_results")

    class Listed(Message):
        def __init__(self, directory: Path, entries: list[str], more: int):
            super().__init__()
            self.directory, self.entries, self.more = directory, entries, more

    class Hosts(Message):
        def __init__(self, names: list[str]):
            super().__init__()
            self.names = names

    class Mismatch(Message):
        def __init__(self, question: str):
            super().__init__()
            self.question = question

    class Failed(Message):
        def __init__(self, error: str):
            super().__init__()
            self.error = error

    class Imported(Message):
        def __init__(self, scans: list[Scan], file: str):
            super().__init__()
            self.scans, self.file = scans, file

    def __init__(self, host: str | None, path: str | None = None):
        super().__init__()
        self.host_name = host or ""
        self.start_path = path if path is not None else str(Path.cwd()) + "/"
        self.directory = Path(self.start_path).expanduser()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog import-results") as box:
            box.border_title = "Import results"
            yield Label("Results file (ARF or XCCDF: .xml, .xml.gz, .xml.bz2)")
            yield Input(self.start_path, placeholder="path of the file or its directory",
                        id="import-path", compact=True)
            yield OptionList(id="import-files", compact=True)
            yield Label("Host the results belong to")
            with Horizontal(classes="host-row"):
                yield Input(self.host_name, placeholder="host name", id="import-host", compact=True)
                yield Tick("create host if missing", id="create-host", compact=True)
            yield Static(id="import-error", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button("Import (ctrl+s)", id="import", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()
        self.load_hosts()
        self.list_files(self.start_path)

    # ---------------------------------------------------------------- the file picker

    @on(Input.Changed, "#import-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self.list_files(event.value)

    @work(group="files", exclusive=True, exit_on_error=False)
    async def list_files(self, typed: str) -> None:
        self.post_message(self.Listed(*await asyncio.to_thread(list_directory, typed)))

    def on_import_results_modal_listed(self, message: Listed) -> None:
        self.directory = message.directory
        options = self.query_one("#import-files", OptionList)
        options.clear_options()
        options.add_options(Option(plain(name), id=name) for name in message.entries)  # names on disk: plain
        if message.more:
            options.add_option(Option(f"… {message.more} more: type more of the name", disabled=True))
        options.display = options.option_count > 0

    @on(OptionList.OptionSelected, "#import-files")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        name = event.option.id or ""
        path = self.query_one("#import-path", Input)
        path.value = str(self.directory / name) + ("/" if name.endswith("/") else "")
        path.cursor_position = len(path.value)
        if not name.endswith("/"):  # a file: on to the host, enter there imports
            self.query_one("#import-host", Input).focus()

    @on(Input.Submitted, "#import-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        if Path(event.value).expanduser().is_file():
            self.action_import()
        elif self.query_one("#import-files", OptionList).option_count:
            self.query_one("#import-files", OptionList).focus()

    # ---------------------------------------------------------------- host

    @work(group="hosts", exit_on_error=False)
    async def load_hosts(self) -> None:
        hosts = await self.workspace.store.find_hosts()
        self.post_message(self.Hosts([h.name for h in hosts]))

    def on_import_results_modal_hosts(self, message: Hosts) -> None:
        self.query_one("#import-host", Input).suggester = SuggestFromList(message.names)

    @on(Input.Submitted, "#import-host")
    def _host_submitted(self) -> None:
        self.action_import()

    # ---------------------------------------------------------------- import

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import":
            self.action_import()
        else:
            self.dismiss(None)

    def action_import(self, accept_other_target: bool = False) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        host = self.query_one("#import-host", Input).value.strip()
        error = self.query_one("#import-error", Static)
        if not path or path.endswith("/") or Path(path).expanduser().is_dir():
            error.update("choose a results file")
            return
        if not host:
            error.update("name the host the results belong to")
            return
        error.update(self.palette.muted(f"importing {Path(path).name}…"))
        self.run_import(Path(path).expanduser(), host, self.query_one("#create-host", Checkbox).value,
                        accept_other_target)

    @work(group="import", exclusive=True, exit_on_error=False)
    async def run_import(self, path: Path, host: str, create: bool, accept_other_target: bool) -> None:
        try:
            scans = await importer.import_files(self.workspace, [path], host,
                                                create_host=create, accept_other_target=accept_other_target)
        except importer.TargetMismatch as exc:
            reason = str(exc).partition("; confirm")[0]  # the rest is the CLI's --yes hint
            self.post_message(self.Mismatch(f"{reason}.\n\nImport anyway?"))
        except OperatorError as exc:
            self.post_message(self.Failed(said(exc)))
        else:
            self.post_message(self.Imported(scans, path.name))

    def on_import_results_modal_failed(self, message: Failed) -> None:
        self.query_one("#import-error", Static).update(plain(message.error))

    def on_import_results_modal_mismatch(self, message: Mismatch) -> None:
        self.query_one("#import-error", Static).update("")

        def answered(yes: bool | None) -> None:
            if yes:
                self.action_import(accept_other_target=True)

        self.app.push_screen(ConfirmModal(message.question, confirm="Import", title="Other target"),
                             answered)

    def on_import_results_modal_imported(self, message: Imported) -> None:
        count = len(message.scans)
        self.notify(f"imported {plural(count, 'scan')} from {message.file}")
        self.dismiss(message.scans)
