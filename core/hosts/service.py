"""Host services: validated add, edit and removal, tailoring, OS detection, readiness check
and host-key trust. The CLI and the TUI both go through these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.audit.log import record
from core.content import tailoring
from core.content.tailoring import Tailoring
from core.domain.errors import (
    AuthenticationFailed,
    HostKeyChanged,
    HostKeyUnknown,
    InvalidInput,
    OperatorError,
    Unreachable,
)
from core.domain.models import Host
from core.domain.policy import parse_tags, parse_zone
from core.domain.validate import validate_host
from core.targets import remote, ssh
from core.targets.connect import connect, sudo_for
from core.targets.transport import shell_join, sudo_error
from core.workspace import Workspace

if TYPE_CHECKING:
    import asyncssh


AUDITED = ("name", "address", "port", "username", "identity_file", "known_hosts", "sudo_password_env",
           "transport", "tailoring_file", "tags", "zone")  # what host.added and host.edited record


async def add_host(workspace: Workspace, host: Host) -> Host:
    added = await workspace.store.add_host(validate_host(host))
    await record(workspace, "host.added", added.name, {f: _audited(added, f) for f in AUDITED if _audited(added, f)})
    return added


def _audited(host: Host, field_name: str) -> Any:
    value = getattr(host, field_name)
    return list(value) if isinstance(value, tuple) else value


async def _edited(workspace: Workspace, before: Host | None, after: Host) -> None:
    """host.edited with what changed (old -> new), when anything did."""
    changed = {f: [_audited(before, f) if before else None, _audited(after, f)] for f in AUDITED
               if before is None or _audited(before, f) != _audited(after, f)}
    if changed:
        await record(workspace, "host.edited", after.name, {"changed": changed})


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
    """What Check found, step by step; a step after the one that failed is None (not tried)."""

    host: str
    reachable: bool = False
    authenticated: bool | None = None
    sudo: bool | None = None
    oscap: bool | None = None
    oscap_version: str | None = None
    os: str | None = None
    error: str | None = None
    host_key: str | None = None  # "trusted", "unknown" or "changed"; None: this machine, or not reached

    @property
    def ready(self) -> bool:
        return bool(self.reachable and self.authenticated and self.sudo and self.oscap)

    def steps(self) -> list[tuple[str, str, bool | None]]:
        """(step, what it found, ok) in the order Check goes; ok None: not tried or not asked."""
        def answer(ok: bool | None) -> tuple[str, bool | None]:
            return ("not tried", None) if ok is None else ("yes" if ok else "no", ok)

        key = {"trusted": ("trusted", True), "unknown": ("UNKNOWN: not trusted yet", False),
               "changed": ("CHANGED: refused", False)}.get(self.host_key or "", ("—", None))
        return [("reachable", *answer(self.reachable)), ("host key", *key),
                ("authenticated", *answer(self.authenticated)), ("oscap", *answer(self.oscap)),
                ("sudo", *answer(self.sudo))]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ready": self.ready}


async def check_host(workspace: Workspace, name: str) -> Readiness:
    """Reachable, host key trusted, authenticated, oscap present, and sudo lets us run it."""
    host = await workspace.store.require_host(name)
    report = Readiness(name)
    try:
        async with await connect(host) as transport:
            report.reachable = report.authenticated = True
            report.host_key = "trusted" if host.transport != "local" else None
            found = await remote.probe(transport)
            report.os = found.os.pretty_name if found.os else None
            if found.os:  # Check shows the OS: the host remembers it, as Detect would
                host.os_id, host.os_version = found.os.id, found.os.version
                host.os_name, host.os_family = found.os.pretty_name, found.os.family
            report.oscap, report.oscap_version = bool(found.oscap_path), found.oscap_version
            remote.require_oscap(name, found)
            command, stdin = sudo_for(host, found).wrap(shell_join("oscap", "--version"))
            result = await transport.run(command, input=stdin, timeout=30)
            report.sudo = result.exit_status == 0
            if not report.sudo:
                raise sudo_error(name, result.stderr) or OperatorError(
                    f"{name}: sudo oscap --version failed: {result.stderr.strip()[:200]}")
    except OperatorError as exc:
        if isinstance(exc, (HostKeyChanged, HostKeyUnknown)):  # the server answered; no login tried
            report.reachable, report.host_key = True, "changed" if isinstance(exc, HostKeyChanged) else "unknown"
        elif isinstance(exc, AuthenticationFailed):  # the key passed; the login did not
            report.reachable, report.host_key, report.authenticated = True, "trusted", False
        report.error = str(exc)
    host.status = "online" if report.reachable else "offline"
    await workspace.store.update_host(host)
    return report


@dataclass
class PresentedKey:
    host: Host
    key: asyncssh.SSHKey
    trusted: bool  # known_hosts holds this very key
    changed: bool  # known_hosts holds a different key for the host: never trusted over it

    @property
    def fingerprint(self) -> str:
        return ssh.fingerprint(self.key)


async def host_key(workspace: Workspace, name: str) -> PresentedKey:
    """The key the host presents now, and what known_hosts says of it, before anything is asked."""
    host = await workspace.store.require_host(name)
    if host.transport == "local":
        raise InvalidInput(f"{name} is this machine; it has no SSH host key to trust")
    known = ssh.known_keys(host)
    key = await ssh.presented_key(host, known)
    return PresentedKey(host, key, key in known, bool(known) and key not in known)


async def trust_host_key(workspace: Workspace, presented: PresentedKey) -> Path:
    """Add the key the host presented to its known_hosts (never over a different one, see
    ssh.trust_key), and log who trusted which fingerprint."""
    path = ssh.trust_key(presented.host, presented.key)
    if not presented.trusted:
        await record(workspace, "hostkey.trusted", presented.host.name,
                     {"fingerprint": presented.fingerprint, "endpoint": presented.host.endpoint,
                      "known_hosts": str(path)})
    return path


async def update_host(workspace: Workspace, host: Host) -> Host:
    """Save an edited host (validated; a new name must be free)."""
    validate_host(host)
    other = await workspace.store.get_host(host.name)
    if other is not None and other.id != host.id:
        raise InvalidInput(f"host {host.name!r} exists already; choose another name")
    before = other or next((h for h in await workspace.store.find_hosts() if h.id == host.id), None)  # renamed
    await workspace.store.update_host(host)
    saved = await workspace.store.require_host(host.name)
    await _edited(workspace, before, saved)
    return saved


async def remove_host(workspace: Workspace, name: str) -> int:
    """Forget a host with its scans and jobs (the host itself is not touched); returns the
    number of scans that went. Their evidence files and the host's tailoring copy go too,
    unless another host's scans or settings still use them (one file imported for two hosts)."""
    host = await workspace.store.require_host(name)
    scans = await workspace.store.find_scans(host=name)
    removed = await workspace.store.remove_host(name)
    await record(workspace, "host.deleted", name, {"address": host.address, "scans_removed": removed})
    candidates = {s.arf_path for s in scans if s.arf_path} | ({host.tailoring_file} if host.tailoring_file else set())
    still_used = await workspace.store.files_in_use(sorted(candidates))
    mine = workspace.data_dir.resolve()
    for path in map(Path, candidates - still_used):
        if path.resolve().is_relative_to(mine):  # only ever files of our own data dir
            path.unlink(missing_ok=True)
    return removed


async def set_tailoring(workspace: Workspace, name: str, source: Path | None) -> tuple[Host, Tailoring | None]:
    """Give a host's scans an XCCDF tailoring (our own copy of source), or none."""
    host = await workspace.store.require_host(name)
    kept = tailoring.keep_copy(workspace.data_dir, source) if source else None
    before = replace(host)
    host.tailoring_file = str(kept.path) if kept else None
    await workspace.store.update_host(host)
    await _edited(workspace, before, host)
    return host, kept


EDITABLE = ("address", "port", "username", "identity_file", "known_hosts", "sudo_password_env", "zone")


async def edit_host(workspace: Workspace, name: str, **changes: Any) -> Host:
    """Change what is given of a host's connection and zone (validated as when added); an
    empty zone takes the host out of its zone."""
    host = await workspace.store.require_host(name)
    before = replace(host)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    for field_name, value in changes.items():
        setattr(host, field_name, value)
    if "zone" in changes:
        host.zone = parse_zone(host.zone)
    await workspace.store.update_host(validate_host(host))
    await _edited(workspace, before, host)
    return host


async def set_tags(workspace: Workspace, name: str, tags: list[str] | str | None) -> Host:
    """Give a host these tags (schedules and exceptions can target a tag); none clears them."""
    host = await workspace.store.require_host(name)
    before = replace(host)
    host.tags = parse_tags(tags)
    await workspace.store.update_host(host)
    await _edited(workspace, before, host)
    return host
