"""The store over a database of the protocol in db.py: every concern's queries (written once,
for both backends) mixed into one Store. sqlite.py and postgres.py add what only they do:
opening, the schema's migration, change notices, checks and copying."""

from __future__ import annotations

from core.store.ai import Ai
from core.store.audit import Audit
from core.store.base import Store
from core.store.content import Content
from core.store.db import Db
from core.store.evidence import Evidence
from core.store.exceptions import Exceptions
from core.store.fleet import Fleet
from core.store.hosts import Hosts
from core.store.jobs import Jobs
from core.store.scans import Scans
from core.store.schedules import Schedules


class SqlStore(Hosts, Content, Scans, Fleet, Evidence, Jobs, Schedules, Exceptions, Ai, Audit, Store):
    def __init__(self, db: Db):
        self.db = db

    async def get_meta(self, key: str) -> str | None:
        value: str | None = await self.db.fetch_value("SELECT value FROM meta WHERE key = ?", (key,))
        return value

    async def set_meta(self, key: str, value: str) -> None:
        await self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
