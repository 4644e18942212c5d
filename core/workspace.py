"""One open data dir: the store, the content found on this machine, the settings and the
event hub of this process.

The CLI, the TUI and the worker each open a Workspace and call the same services with it.
It holds no SSH: results and content code may use it without loading the scan engine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core import files, paths
from core.content import catalog, discovery
from core.domain.events import EventHub
from core.domain.models import Host
from core.domain.settings import Settings, load_settings
from core.domain.timeutil import now_iso
from core.store import open_store
from core.store.base import Expired, Store

LOCALHOST = "localhost"


@dataclass
class Workspace:
    data_dir: Path
    store: Store
    content_dirs: list[Path]
    settings: Settings = field(default_factory=Settings)
    hub: EventHub = field(default_factory=EventHub)
    _datastreams: list[catalog.Datastream] | None = field(default=None, repr=False)
    _content_seen: tuple[tuple[str, int, int], ...] = field(default=(), repr=False)  # discovery.fingerprint() of _datastreams
    notices: list[str] = field(default_factory=list)  # for the operator: the CLI's stderr, the TUI
    # work that a fleet's first scans would all do at once, once per key in this process (see first)
    _firsts: dict[str, asyncio.Lock] = field(default_factory=dict, repr=False)
    firsts_done: set[str] = field(default_factory=set, repr=False)

    @classmethod
    async def open(cls, data_dir: Path, content_dirs: list[Path] | None = None,
                   settings: Settings | None = None) -> "Workspace":
        settings = settings or load_settings()
        notices = await asyncio.to_thread(make_private, data_dir)
        store = await open_store(paths.database(data_dir), settings.store_url)
        workspace = cls(data_dir, store, content_dirs or catalog.default_content_dirs(data_dir), settings)
        workspace.notices += notices
        await workspace.recover_expired()
        await workspace.register_localhost()
        return workspace

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> "Workspace":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def first(self, key: str) -> asyncio.Lock:
        """The lock under which concurrent jobs do once what they would all do at the same time
        (compress a datastream, read a profile's rules, fetch a datastream block); the first
        adds key to firsts_done."""
        return self._firsts.setdefault(key, asyncio.Lock())

    def configure(self, **changes: Any) -> None:
        """Override settings for this process (e.g. the CLI's --max-concurrent)."""
        self.settings = replace(self.settings, **changes)

    async def datastreams(self) -> list[catalog.Datastream]:
        """Installed datastreams: read again only when a datastream file was added, changed or
        removed since the last look (`content import` from another process, `make content`),
        and then only the files the index does not know."""
        seen = await asyncio.to_thread(discovery.fingerprint, self.content_dirs)
        async with self.first("content"):  # concurrent scans of a fleet each read it all, before
            if self._datastreams is None or seen != self._content_seen:
                index = paths.cache_dir(self.data_dir) / "content-index.json"
                self._datastreams = await asyncio.to_thread(catalog.discover, self.content_dirs, index)
                self._content_seen = seen
        return self._datastreams

    async def recover_expired(self) -> list[Expired]:
        """Jobs whose process stopped (its lease ran out): re-queued once, or failed."""
        return await self.store.expire_leases(now_iso())

    async def register_localhost(self) -> None:
        """On first start the machine itself is a host, so a newcomer can scan at once."""
        if await self.store.get_meta("localhost_registered"):
            return
        await self.store.get_or_add_host(Host(name=LOCALHOST, address="127.0.0.1", transport="local"))
        await self.store.set_meta("localhost_registered", "1")


def make_private(data_dir: Path) -> list[str]:
    """The data dir 0700 and everything in it 0600, checked on every start; what an older
    version (or a umask) left open is fixed with a notice."""
    files.private_dir(data_dir)
    fixed = files.secure_tree(data_dir)
    if not fixed:
        return []
    fixed += files.secure_tree(data_dir, deep=True)
    return [f"{data_dir} was readable by other users; made it private (directories 0700, "
            f"files 0600; {len(fixed)} fixed, e.g. {fixed[0]})"]
