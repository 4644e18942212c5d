"""SSH transport (asyncssh) with strict host keys, and the explicit way to trust a key.

asyncssh reads ~/.ssh/config (ProxyJump, User, IdentityFile, ...) and uses the
agent by itself; we add the host's own settings on top. Host keys are checked
against known_hosts: an unknown key is refused with its fingerprint, a changed
key is always refused.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import asyncssh

from core.domain.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyChanged,
    HostKeyUnknown,
    InvalidInput,
    OperatorError,
    Unreachable,
    os_reason,
)
from core.domain.models import Host
from core.targets.transport import CommandResult, Held, LineHandler, Transport

CONNECT_TIMEOUT = 15.0
DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
# Host key types, the strongest first: asked for in this order, the host answers with the first it
# has (asyncssh's own order puts RSA first). An RSA key signs with SHA-2 (OpenSSH 8.8 on refuses
# ssh-rsa's SHA-1 by default), ssh-rsa last for old servers.
KEY_PREFERENCE = ("ssh-ed25519", "ssh-ed448", "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp384",
                  "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")
_SIGNATURES = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}  # an RSA key's algorithms


def known_hosts_path(host: Host) -> Path:
    return Path(host.known_hosts or DEFAULT_KNOWN_HOSTS).expanduser()


def _known_hosts_arg(host: Host) -> str | bytes:
    path = known_hosts_path(host)
    return str(path) if path.is_file() else b""  # empty: every key is unknown, never "no check"


def _where(host: Host) -> str:
    return f"{host.name} ({host.endpoint})"


class SshTransport(Transport):
    def __init__(self, host: Host, connection: asyncssh.SSHClientConnection) -> None:
        super().__init__(host.name)
        self.connection = connection

    @classmethod
    async def connect(cls, host: Host, timeout: float = CONNECT_TIMEOUT) -> "SshTransport":
        options: dict[str, Any] = {  # asyncssh.connect's keyword arguments
            "known_hosts": _known_hosts_arg(host),
            "connect_timeout": timeout,
            "keepalive_interval": 15,
            "keepalive_count_max": 4,
        }
        if host.port != 22:  # 22 may stand for "whatever ~/.ssh/config says"
            options["port"] = host.port
        if host.username:
            options["username"] = host.username
        if host.identity_file:
            options["client_keys"] = _identity(host)
        try:
            connection = await asyncssh.connect(host.address, **options)
        except asyncssh.HostKeyNotVerifiable:
            raise await _host_key_error(host) from None
        except (asyncssh.KeyExchangeFailed, asyncssh.ConnectionLost, ConnectionResetError, BrokenPipeError) as exc:
            # a server that now offers only key types known_hosts has none of (RSA where an
            # ed25519 key is known) fails the key exchange: say it is a host-key change
            changed = await _key_type_changed(host)
            if changed:
                raise changed from None
            raise Unreachable(f"{_where(host)} is unreachable: {_reason(exc)}") from None
        except asyncssh.PermissionDenied:
            raise AuthenticationFailed(
                f"{_where(host)}: authentication failed for user {host.username or 'default'}; "
                "check the user, the identity file or the ssh-agent"
            ) from None
        except (asyncio.TimeoutError, TimeoutError):
            raise Unreachable(f"{_where(host)} did not answer within {timeout:.0f} s; is it up?") from None
        except (OSError, asyncssh.Error) as exc:
            raise Unreachable(f"{_where(host)} is unreachable: {_reason(exc)}") from None
        return cls(host, connection)

    async def _start(self, command: str) -> asyncssh.SSHClientProcess[bytes]:
        try:
            return await self.connection.create_process(command, encoding=None)
        except (asyncssh.Error, OSError) as exc:
            raise ConnectionLost(f"{self.host_name}: connection lost: {_reason(exc)}") from None

    async def _execute(self, command: str, on_line: LineHandler | None, input: bytes | None,
                       sink: BinaryIO | None = None, max_output: int | None = None) -> CommandResult:
        try:
            return await super()._execute(command, on_line, input, sink, max_output)
        except (asyncssh.Error, BrokenPipeError, ConnectionError) as exc:
            raise ConnectionLost(f"{self.host_name}: connection lost: {_reason(exc)}") from None

    async def hold(self, command: str, ready: str, timeout: float = 60) -> Held:
        try:
            return await super().hold(command, ready, timeout)
        except (asyncssh.Error, BrokenPipeError, ConnectionError) as exc:
            raise ConnectionLost(f"{self.host_name}: connection lost: {_reason(exc)}") from None

    async def _wait(self, process: asyncssh.SSHClientProcess[bytes]) -> int:
        completed = await process.wait()
        if completed.exit_signal:  # killed by signal N: 128 + N, as a shell reports it
            number = getattr(signal.Signals, f"SIG{completed.exit_signal[0]}", None)
            if number is not None:
                return 128 + int(number)
        if completed.exit_status is None or completed.exit_status < 0:  # the channel went away
            raise ConnectionLost(
                f"{self.host_name}: the remote command ended without an exit status "
                f"({completed.exit_signal[0] if completed.exit_signal else 'connection lost'})"
            )
        return completed.exit_status

    async def _abort(self, process: asyncssh.SSHClientProcess[bytes]) -> None:
        process.close()

    async def close(self) -> None:
        self.connection.close()
        try:
            await asyncio.wait_for(self.connection.wait_closed(), 5)
        except (asyncio.TimeoutError, asyncssh.Error, OSError):
            pass


def _identity(host: Host) -> Sequence[asyncssh.SSHKeyPair]:
    """The host's identity file (and its -cert.pub), read now so a bad one is named as such
    rather than reported as "unreachable"."""
    path = Path(os.path.expanduser(host.identity_file or ""))
    if not path.is_file():
        raise InvalidInput(f"{host.name}: identity file {path} does not exist; check the host's identity file")
    try:
        return asyncssh.load_keypairs(str(path))
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        if "assphrase" in str(exc) or "bcrypt" in str(exc) or isinstance(exc, asyncssh.KeyEncryptionError):
            raise InvalidInput(f"{host.name}: identity file {path} is protected by a passphrase; load it "
                               "into ssh-agent (ssh-add) and leave the host's identity file empty") from None
        raise InvalidInput(f"{host.name}: identity file {path} is not a private key") from None
    except OSError as exc:
        raise InvalidInput(f"{host.name}: identity file {path} cannot be read: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """What went wrong in the operator's words: what happened and what to check, never
    Python's exception text ("[Errno 111] Connect call failed ('127.0.0.1', 2301)")."""
    if isinstance(exc, ConnectionRefusedError):
        return "nothing listens on that port: check the port, and that sshd runs"
    if isinstance(exc, socket.gaierror):
        return "the name does not resolve: check the address"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "no route to it: check the address and the network"
    if isinstance(exc, OSError) and exc.errno == errno.ETIMEDOUT:
        return "it did not answer: check the address and any firewall"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "the connection was reset"
    if isinstance(exc, asyncssh.ConnectionLost):
        return "the server closed the connection"
    if isinstance(exc, asyncssh.Error):  # the server's or asyncssh's own words, without a code
        return (exc.reason or type(exc).__name__).splitlines()[0].strip().rstrip(".").lower()
    return os_reason(exc)


def key_algorithms(key_types: list[str] | None = None) -> list[str]:
    """What to ask a server for: these key types (all when None), the strongest first."""
    wanted = [a for t in key_types for a in _SIGNATURES.get(t, (t,))] if key_types else list(KEY_PREFERENCE)
    return sorted(dict.fromkeys(wanted), key=lambda a: KEY_PREFERENCE.index(a) if a in KEY_PREFERENCE
                  else len(KEY_PREFERENCE))


async def fetch_host_key(host: Host, algorithms: list[str] | None = None,
                         timeout: float = CONNECT_TIMEOUT) -> asyncssh.SSHKey:
    """The key the server presents now (of the given key types, else its strongest), without
    logging in."""
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(
            host.address, host.port, server_host_key_algs=key_algorithms(algorithms)), timeout)
    except (asyncio.TimeoutError, TimeoutError):
        raise Unreachable(f"{_where(host)} did not answer within {timeout:.0f} s; is it up?") from None
    except (OSError, asyncssh.Error) as exc:
        raise Unreachable(f"{_where(host)} is unreachable: {_reason(exc)}") from None
    if key is None:
        raise Unreachable(f"{_where(host)} presented no host key")
    return key


def fingerprint(key: asyncssh.SSHKey) -> str:
    return f"{key.get_algorithm()} {key.get_fingerprint('sha256')}"


def known_keys(host: Host) -> list[asyncssh.SSHKey]:
    """Keys known_hosts already trusts for this host."""
    path = known_hosts_path(host)
    if not path.is_file():
        return []
    matches = asyncssh.read_known_hosts(str(path)).match(host.address, "", host.port)
    return list(matches[0])


async def presented_key(host: Host, known: list[asyncssh.SSHKey]) -> asyncssh.SSHKey:
    """The key the host presents now, of a type known_hosts holds when it still offers one."""
    try:
        return await fetch_host_key(host, [k.get_algorithm() for k in known] or None)
    except Unreachable:
        if not known:
            raise
        return await fetch_host_key(host)  # none of the known key types is offered any more


async def _host_key_error(host: Host) -> OperatorError:
    known = known_keys(host)
    key = await presented_key(host, known)
    if known:
        return _changed(host, key)
    return HostKeyUnknown(
        f"{_where(host)}: unknown host key {fingerprint(key)}; verify it, then run "
        f"`compliance-tui hosts trust {host.name}`"
    )


def _changed(host: Host, key: asyncssh.SSHKey) -> HostKeyChanged:
    return HostKeyChanged(
        f"{_where(host)}: HOST KEY CHANGED (now {fingerprint(key)}), refusing to connect; "
        f"if the change is expected, remove the old key from {known_hosts_path(host)} and run "
        f"`compliance-tui hosts trust {host.name}`"
    )


async def _key_type_changed(host: Host) -> HostKeyChanged | None:
    """After a failed key exchange: a key known_hosts does not hold, where it holds others."""
    known = known_keys(host)
    if not known:
        return None
    try:
        key = await fetch_host_key(host)
    except Unreachable:
        return None
    return None if key in known else _changed(host, key)


def known_hosts_entry(host: Host, key: asyncssh.SSHKey) -> str:
    pattern = host.address if host.port == 22 else f"[{host.address}]:{host.port}"
    return f"{pattern} {key.export_public_key('openssh').decode().strip()}\n"


def trust_key(host: Host, key: asyncssh.SSHKey) -> Path:
    """Append the key to the host's known_hosts; a different key already there is never replaced."""
    known = known_keys(host)
    if key in known:
        return known_hosts_path(host)
    if known:
        raise HostKeyChanged(
            f"{_where(host)}: known_hosts holds a different key for this host; "
            f"remove it from {known_hosts_path(host)} first if the change is expected"
        )
    path = known_hosts_path(host)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(known_hosts_entry(host, key))
    return path
