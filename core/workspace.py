"""One open data dir: the store, the content found on this machine, and the settings.

The CLI and the TUI both open a Workspace and call the same services with it.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from core import paths
from core.content import catalog as content
from core.domain.models import Host
from core.store.sqlite import Store

LOCALHOST = "localhost"
DEFAULT_SCAN_TIMEOUT = 3600  # seconds; a CIS L2 scan of a big host takes minutes, never an hour
DEFAULT_MAX_CONCURRENT = 4


def runner_id() -> str:
    """hostname:pid of this process, written on the scans it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Workspace:
    data_dir: Path
    store: Store
    content_dirs: list[Path]
    scan_timeout: int = DEFAULT_SCAN_TIMEOUT
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    _datastreams: list[content.Datastream] | None = field(default=None, repr=False)

    @classmethod
    async def open(cls, data_dir: Path, content_dirs: list[Path] | None = None) -> "Workspace":
        data_dir.mkdir(parents=True, exist_ok=True)
        store = await Store.open(paths.database(data_dir))
        workspace = cls(data_dir, store, content_dirs or content.default_content_dirs(data_dir))
        await workspace.recover_interrupted()
        await workspace.register_localhost()
        return workspace

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> "Workspace":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def datastreams(self) -> list[content.Datastream]:
        """Installed datastreams, read once per workspace (an index makes repeats cheap)."""
        if self._datastreams is None:
            index = paths.cache_dir(self.data_dir) / "content-index.json"
            self._datastreams = await asyncio.to_thread(content.discover, self.content_dirs, index)
        return self._datastreams

    async def recover_interrupted(self) -> int:
        """Mark failed the scans whose process on this machine is gone (a killed app)."""
        me = socket.gethostname()
        recovered = 0
        for scan_id, runner in await self.store.unfinished_scans():
            machine, _, pid = (runner or "").rpartition(":")
            if machine and machine != me:
                continue  # another machine's scan; its own runner recovers it
            if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                continue  # another process here still runs it
            await self.store.fail_scan(
                scan_id, "interrupted: the process running this scan stopped; scan again"
            )
            recovered += 1
        return recovered

    async def register_localhost(self) -> None:
        """On first start the machine itself is a host, so a newcomer can scan at once."""
        if await self.store.get_meta("localhost_registered"):
            return
        if await self.store.get_host(LOCALHOST) is None:
            await self.store.add_host(Host(name=LOCALHOST, address="127.0.0.1", transport="local"))
        await self.store.set_meta("localhost_registered", "1")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
