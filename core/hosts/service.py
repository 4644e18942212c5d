"""Host services: validated add, edit and removal, tailoring, OS detection, readiness check
and host-key trust. The CLI and the TUI both go through these."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from core.content import tailoring
from core.content.tailoring import Tailoring
from core.domain.errors import InvalidInput, OperatorError, Unreachable
from core.domain.models import Host
from core.domain.policy import parse_tags
from core.domain.validate import validate_host
from core.targets import remote, ssh
from core.targets.connect import connect, sudo_for
from core.targets.transport import shell_join, sudo_error
from core.workspace import Workspace


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


async def remove_host(workspace: Workspace, name: str) -> int:
    """Forget a host with its scans and jobs (the host itself is not touched); returns the
    number of scans that went, and their evidence files with them."""
    scans = await workspace.store.find_scans(host=name)
    removed = await workspace.store.remove_host(name)
    for scan in scans:
        if scan.arf_path and scan.origin == "scan":  # imported files may back other scans
            Path(scan.arf_path).unlink(missing_ok=True)
    return removed


async def set_tailoring(workspace: Workspace, name: str, source: Path | None) -> tuple[Host, Tailoring | None]:
    """Give a host's scans an XCCDF tailoring (our own copy of source), or none."""
    host = await workspace.store.require_host(name)
    kept = tailoring.keep_copy(workspace.data_dir, source) if source else None
    host.tailoring_file = str(kept.path) if kept else None
    await workspace.store.update_host(host)
    return host, kept


async def set_tags(workspace: Workspace, name: str, tags: list[str] | str | None) -> Host:
    """Give a host these tags (schedules and exceptions can target a tag); none clears them."""
    host = await workspace.store.require_host(name)
    host.tags = parse_tags(tags)
    await workspace.store.update_host(host)
    return host
