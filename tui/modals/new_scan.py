"""New Scan: host pre-filled and changeable; every profile the content offers for the host's detected
OS, under its framework (CIS first, CIS Level 1 Server highlighted: the default)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, OptionList, Select, Static

from core.content.catalog import ContentError, ProfileChoice, every_profile, resolve_profile
from core.domain.models import Host
from core.jobs import queue
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.services import remote
from tui.widgets.cells import plain
from tui.widgets.profile_options import first_choice, grouped_options
from tui.widgets.run_choice import RunChoice


def option_id(choice: ProfileChoice) -> str:
    return choice.short_name or choice.profile_id


def profile_option(choice: ProfileChoice) -> str:
    derived = f", {choice.derived_label}" if choice.derived_label else ""
    return f"{choice.title}  ({choice.rule_count} rules{derived}, SSG {choice.datastream.version})"


class NewScanModal(BaseModal):
    """Dismisses True once the scan is started, None when cancelled."""

    BINDINGS = keymap.bindings("new_scan")

    class Profiles(Message):
        def __init__(self, host: Host, choices: list[ProfileChoice], problem: str | None):
            super().__init__()
            self.host, self.choices, self.problem = host, choices, problem

    def __init__(self, host: str | None):
        super().__init__()
        self.host_name = host
        self.host: Host | None = None
        self.choices: list[ProfileChoice] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog new-scan") as box:
            box.border_title = "New Scan"
            yield Label("Host")
            yield Select([], prompt="choose a host", id="scan-host", compact=True, allow_blank=True)
            yield Label("SCAP profile (for the host's detected OS)")
            yield OptionList(id="profiles", compact=True)
            yield Static(id="profile-note", classes="note")
            yield RunChoice(id="run-choice")
            with Horizontal(classes="buttons"):
                yield Button("Create Scan (ctrl+s)", id="create", variant="primary", compact=True,
                             disabled=True)
                yield Button("Detect OS (O)", id="detect", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.load_hosts()

    class Hosts(Message):
        def __init__(self, names: list[str]):
            super().__init__()
            self.names = names

    @work(group="hosts", exit_on_error=False)
    async def load_hosts(self) -> None:
        hosts = await self.workspace.store.find_hosts()
        self.post_message(self.Hosts([h.name for h in hosts]))

    def on_new_scan_modal_hosts(self, message: Hosts) -> None:
        select = self.query_one("#scan-host", Select)
        select.set_options([(plain(name), name) for name in message.names])
        if self.host_name in message.names:
            select.value = self.host_name
            self.query_one("#profiles").focus()
        else:
            select.focus()

    @on(Select.Changed, "#scan-host")
    def _host_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK:
            self.host_name = str(event.value)
            self.query_one("#profile-note", Static).update("reading the profiles…")
            self.load_profiles(self.host_name)

    @work(group="profiles", exclusive=True, exit_on_error=False)
    async def load_profiles(self, name: str) -> None:
        host = await self.workspace.store.require_host(name)
        choices, problem = [], None
        if (os_info := host.os_info) is not None:
            datastreams = await self.state.datastreams()
            choices = every_profile(os_info, datastreams)
            if not any(c.short_name for c in choices):  # no CIS Server content: say why
                try:
                    resolve_profile(os_info, "cis-level1-server", datastreams)
                except ContentError as exc:
                    problem = str(exc)
        self.post_message(self.Profiles(host, choices, problem))

    def on_new_scan_modal_profiles(self, message: Profiles) -> None:
        if message.host.name != self.host_name:
            return
        self.host, self.choices = message.host, message.choices
        options = self.query_one("#profiles", OptionList)
        options.clear_options()
        options.add_options(grouped_options((c.framework, option_id(c), profile_option(c)) for c in self.choices))
        note = self.query_one("#profile-note", Static)
        palette = self.palette
        if not self.host.os_id:
            note.update(palette.text(f"The OS of {self.host.name} is not detected yet, so no profile "
                                     "can be offered. Press O to detect it.", "text-warning"))
        elif not self.choices:
            note.update(palette.text(f"{self.host.os_name}: {message.problem or 'no profile installed'}",
                                     "text-warning"))
        elif message.problem:  # other frameworks, but not CIS: say what CIS needs
            note.update(palette.text(f"{self.host.name}: {message.problem}", "text-warning"))
        else:
            note.update(palette.muted(f"{self.host.name}: {self.host.os_name}"))
        options.display = bool(self.choices)
        if self.choices:
            options.highlighted = first_choice(options.options)
            options.focus()
        self.query_one("#create", Button).disabled = not self.choices
        self.query_one("#detect", Button).display = not self.host.os_id
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "detect":
            return self.host is not None and not self.host.os_id
        return True

    def action_detect(self) -> None:
        if self.host is not None:
            self.query_one("#profile-note", Static).update(plain(f"detecting the OS of {self.host.name}…"))
            self.detect(self.host.name)

    @work(group="detect", exclusive=True, exit_on_error=False)
    async def detect(self, name: str) -> None:
        try:
            await remote.detect_os(self.workspace, name)
        finally:
            self.load_profiles(name)

    @on(OptionList.OptionSelected, "#profiles")
    def _profile_chosen(self) -> None:
        self.action_create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"create": self.action_create, "detect": self.action_detect,
         "cancel": self.action_close}[event.button.id or ""]()

    def action_create(self) -> None:
        options = self.query_one("#profiles", OptionList)
        if self.host is None or not self.choices or options.highlighted is None:
            why = ("choose a host first" if self.host is None else
                   f"{self.host.name}: detect its OS first (O)" if not self.host.os_id else
                   f"{self.host.name}: no profile is installed for {self.host.os_name}")
            self.notify(f"nothing to scan with: {why}", severity="warning")
            return
        wanted = options.get_option_at_index(options.highlighted).id
        choice = next(c for c in self.choices if option_id(c) == wanted)
        self.create(self.host.name, choice.short_name or choice.profile_id, choice.title,
                    self.query_one(RunChoice).here)

    @work(group="create", exclusive=True, exit_on_error=False)
    async def create(self, host: str, profile: str, title: str, here: bool) -> None:
        wanted = await queue.scan_requests(self.workspace, [host], profile)
        (job,) = await self.jobs.scan(wanted, here)
        where = "started" if here else "queued for a worker (compliance-tui worker)"
        self.notify(f"{host}: {title} scan {where} (job {job.short_id})")
        self.dismiss(True)

    def action_toggle_runner(self) -> None:
        self.query_one(RunChoice).toggle()
