"""Host and scan services for the screens, imported on first use.

core.hosts and core.scanner pull in asyncssh and cryptography: about 150 ms of imports that
the first screen should not wait for (startup budget: 1 s, often over a slow link). Each
function here imports its core module when first called and hands the call through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.domain.models import Host
    from core.workspace import Workspace


async def add_host(workspace: "Workspace", host: "Host") -> "Host":
    from core.hosts import service as hosts

    return await hosts.add_host(workspace, host)


async def update_host(workspace: "Workspace", host: "Host") -> "Host":
    from core.hosts import service as hosts

    return await hosts.update_host(workspace, host)


async def remove_host(workspace: "Workspace", name: str) -> int:
    from core.hosts import service as hosts

    return await hosts.remove_host(workspace, name)


async def detect_os(workspace: "Workspace", name: str) -> "Host":
    from core.hosts import service as hosts

    return await hosts.detect_os(workspace, name)


async def check_host(workspace: "Workspace", name: str):
    from core.hosts import service as hosts

    return await hosts.check_host(workspace, name)


async def host_key(workspace: "Workspace", name: str):
    from core.hosts import service as hosts

    return await hosts.host_key(workspace, name)


def fingerprint(key) -> str:
    from core.targets import ssh

    return ssh.fingerprint(key)


def known_hosts_path(host: "Host"):
    from core.targets import ssh

    return ssh.known_hosts_path(host)


async def trust_key(workspace: "Workspace", presented):
    """Trust the key the host presented (and log who did: core/hosts/service.py)."""
    from core.hosts import service as hosts

    return await hosts.trust_host_key(workspace, presented)
