"""Add or edit a host: validated before it is saved; errors show in the form."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Awaitable, Callable

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Input, Label

from core.domain.errors import InvalidInput
from core.domain.models import Host
from core.domain.policy import parse_tags, parse_zone
from core.domain.validate import parse_port, validate_host
from tui.base.form import FormModal
from tui.widgets.cells import plain

Save = Callable[[Host], Awaitable[Host]]
FIELDS = (
    ("name", "Name", "e.g. web01"),
    ("address", "Address", "DNS name or IP address"),
    ("port", "Port", "22"),
    ("username", "User", "login user (default: yours)"),
    ("identity_file", "Identity file", "~/.ssh/id_ed25519 (optional)"),
    ("known_hosts", "known_hosts", "default ~/.ssh/known_hosts"),
    ("sudo_password_env", "Sudo pw env", "NAME of a variable, never the password"),
    ("tags", "Tags", "comma-separated, e.g. web, prod (for schedules)"),
    ("zone", "Zone", "network zone: `worker --zone NAME` runs its jobs"),
)


class HostFormModal(FormModal[Host, Host]):
    """Dismisses with the saved Host, or None when cancelled."""

    def __init__(self, host: Host | None, save: Save):
        super().__init__(save)
        self.host = host

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog host-form") as box:
            box.border_title = plain(f"Edit {self.host.name}" if self.host else "Add host")
            with Grid(classes="form"):
                for field, label, hint in FIELDS:
                    yield Label(label)
                    value = "" if self.host is None else getattr(self.host, field)
                    if field == "tags":
                        value = ", ".join(value)
                    if field == "port" and self.host is None:
                        value = 22
                    yield Input("" if value is None else str(value), placeholder=hint,
                                id=f"f-{field}", compact=True)
            yield from self.form_end()

    def read(self) -> Host:
        values = {field: self.field(field) or None for field, _label, _hint in FIELDS}
        name, address = values["name"], values["address"]
        if not name:  # said in the form's words before core's checks
            raise InvalidInput("give the host a name (Name), e.g. web01")
        if not address:
            raise InvalidInput("give the host's address (Address): a DNS name or an IP address")
        host = Host(name, address, parse_port(values["port"] or "22"), username=values["username"],
                    identity_file=values["identity_file"], known_hosts=values["known_hosts"],
                    sudo_password_env=values["sudo_password_env"], tags=parse_tags(values["tags"]),
                    zone=parse_zone(values["zone"]))
        if self.host is not None:  # the form's fields over the others of the host (its id, its OS)
            host = replace(self.host, **{field: getattr(host, field) for field, _label, _hint in FIELDS})
        if host.identity_file:
            host.identity_file = str(Path(host.identity_file).expanduser())
        return validate_host(host)
