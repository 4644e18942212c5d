"""Host services: validated add, OS detection, readiness check and host-key trust."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from core import remote, ssh
from core.errors import InvalidInput, OperatorError, Unreachable
from core.models import Host
from core.scanner import connect, sudo_for
from core.transport import shell_join, sudo_error
from core.workspace import Workspace

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$")
USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$")
ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_host(host: Host) -> Host:
    """Reject bad input with a clear message before anything connects."""
    if not NAME.match(host.name or ""):
        raise InvalidInput(
            f"invalid host name {host.name!r}: use letters, digits, '.', '_' and '-' (at most 63), "
            "starting with a letter or digit"
        )
    if not valid_address(host.address or ""):
        raise InvalidInput(f"invalid address {host.address!r}: give a DNS name or an IP address")
    if not isinstance(host.port, int) or not 1 <= host.port <= 65535:
        raise InvalidInput(f"invalid port {host.port!r}: use a number from 1 to 65535")
    if host.username is not None and not USER.match(host.username):
        raise InvalidInput(f"invalid user name {host.username!r}")
    if host.identity_file and not Path(host.identity_file).expanduser().is_file():
        raise InvalidInput(f"identity file {host.identity_file} does not exist")
    if host.sudo_password_env and not ENV_VAR.match(host.sudo_password_env):
        raise InvalidInput(
            f"invalid variable name {host.sudo_password_env!r}: give the NAME of an environment "
            "variable that holds the sudo password, never the password itself"
        )
    return host


def parse_port(text: str | int) -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"invalid port {text!r}: use a number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise InvalidInput(f"invalid port {text!r}: use a number from 1 to 65535")
    return port


def valid_address(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
        return True
    except ValueError:
        return bool(HOSTNAME.match(address))


async def add_host(workspace: Workspace, host: Host) -> Host:
    return await workspace.store.add_host(validate_host(host))


async def detect_os(workspace: Workspace, name: str) -> Host:
    """Read /etc/os-release on the host and remember what it runs."""
    host = await workspace.store.require_host(name)
    try:
        async with await connect(host) as transport:
            found = await remote.probe(transport)
    except Unreachable:
        host.status = "offline"
        await workspace.store.update_host(host)
        raise
    if found.os is None:
        raise OperatorError(f"{name}: /etc/os-release is missing or unreadable; cannot tell the OS")
    host.status = "online"
    host.os_id, host.os_version = found.os.id, found.os.version
    host.os_name, host.os_family = found.os.pretty_name, found.os.family
    await workspace.store.update_host(host)
    return host


@dataclass
class Readiness:
    host: str
    reachable: bool = False
    authenticated: bool = False
    sudo: bool = False
    oscap: bool = False
    oscap_version: str | None = None
    os: str | None = None
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.reachable and self.authenticated and self.sudo and self.oscap

    def as_dict(self) -> dict:
        return asdict(self) | {"ready": self.ready}


async def check_host(workspace: Workspace, name: str) -> Readiness:
    """Reachable, authenticated, oscap present, and sudo lets us run it."""
    host = await workspace.store.require_host(name)
    report = Readiness(name)
    try:
        async with await connect(host) as transport:
            report.reachable = report.authenticated = True
            found = await remote.probe(transport)
            report.os = found.os.pretty_name if found.os else None
            report.oscap, report.oscap_version = bool(found.oscap_path), found.oscap_version
            remote.require_oscap(name, found)
            command, stdin = sudo_for(host, found).wrap(shell_join("oscap", "--version"))
            result = await transport.run(command, input=stdin, timeout=30)
            report.sudo = result.exit_status == 0
            if not report.sudo:
                raise sudo_error(name, result.stderr) or OperatorError(
                    f"{name}: sudo oscap --version failed: {result.stderr.strip()[:200]}")
    except OperatorError as exc:
        report.reachable = report.reachable or not isinstance(exc, Unreachable)
        report.error = str(exc)
    host.status = "online" if report.reachable else "offline"
    await workspace.store.update_host(host)
    return report


async def host_key(workspace: Workspace, name: str):
    """The key the host presents now and whether known_hosts trusts it already."""
    host = await workspace.store.require_host(name)
    if host.transport == "local":
        raise InvalidInput(f"{name} is this machine; it has no SSH host key to trust")
    key = await ssh.fetch_host_key(host)
    return host, key, key in ssh.known_keys(host)


async def update_host(workspace: Workspace, host: Host) -> Host:
    """Save an edited host (validated; a new name must be free)."""
    validate_host(host)
    other = await workspace.store.get_host(host.name)
    if other is not None and other.id != host.id:
        raise InvalidInput(f"host {host.name!r} exists already; choose another name")
    await workspace.store.update_host(host)
    return await workspace.store.require_host(host.name)
