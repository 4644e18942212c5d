"""A connection to a host, and how to become root on it."""

from __future__ import annotations

import os

from core.domain.errors import SudoNeedsPassword
from core.domain.models import Host
from core.targets import remote
from core.targets.ssh import SshTransport
from core.targets.transport import LocalTransport, Sudo, Transport


async def connect(host: Host) -> Transport:
    if host.transport == "local":
        return LocalTransport(host.name)
    return await SshTransport.connect(host)


def sudo_for(host: Host, found: remote.Probe) -> Sudo:
    if found.is_root:
        return Sudo(needed=False)
    if not host.sudo_password_env:
        return Sudo()
    password = os.environ.get(host.sudo_password_env)
    if password is None:
        raise SudoNeedsPassword(
            f"{host.name}: environment variable {host.sudo_password_env} (the sudo password) is not set"
        )
    return Sudo(password=password)
