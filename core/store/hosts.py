"""Hosts' queries (HostStore in base.py), for both backends: a part of SqlStore (sql_store.py)."""

from __future__ import annotations

import json

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import Host
from core.domain.timeutil import now_iso
from core.store.base import HostStore
from core.store.db import Db, Row, like, marks

HOST_FIELDS = (
    "name", "address", "port", "username", "identity_file", "known_hosts",
    "sudo_password_env", "transport", "os_id", "os_version", "os_name", "os_family", "status",
    "tailoring_file", "tags", "zone",
)
_COLUMNS = HOST_FIELDS + ("created_at",)
_INSERT = f"INSERT INTO hosts ({', '.join(_COLUMNS)}) VALUES ({marks(_COLUMNS)}) ON CONFLICT (name) DO NOTHING"


def host_value(host: Host, column: str) -> object:
    return json.dumps(list(host.tags)) if column == "tags" else getattr(host, column)


def host_of(row: Row) -> Host:
    fields = {k: row[k] for k in HOST_FIELDS} | {"tags": tuple(json.loads(row["tags"] or "[]"))}
    return Host(**fields, id=row["id"], created_at=row["created_at"])


async def insert_host(db: Db, host: Host) -> tuple[Host, bool]:
    """The host of that name, or this one added (created_at now): (host, created), inside the
    caller's transaction; processes adding one name at once all get the same host."""
    host.created_at = now_iso()
    created = await db.execute(_INSERT, [host_value(host, c) for c in _COLUMNS]) == 1
    row = await db.fetch_one("SELECT * FROM hosts WHERE name = ?", (host.name,))
    if row is None:  # PostgreSQL: it was there at the INSERT, and removed since by another process
        raise NotFound(f"host {host.name!r} was removed while being added; try again")
    return host_of(row), created


class Hosts(HostStore):
    db: Db

    async def add_host(self, host: Host) -> Host:
        found, created = await self.get_or_add_host(host)
        if not created:
            raise InvalidInput(f"host {host.name!r} exists already; choose another name")
        return found

    async def get_or_add_host(self, host: Host) -> tuple[Host, bool]:
        async with self.db.transaction() as db:
            return await insert_host(db, host)

    async def update_host(self, host: Host) -> None:
        assignments = ", ".join(f"{c} = ?" for c in HOST_FIELDS)
        await self.db.execute(f"UPDATE hosts SET {assignments} WHERE id = ?",
                              [*(host_value(host, c) for c in HOST_FIELDS), host.id])

    async def get_host(self, name: str) -> Host | None:
        row = await self.db.fetch_one("SELECT * FROM hosts WHERE name = ?", (name,))
        return host_of(row) if row else None

    async def find_hosts(self, search: str | None = None) -> list[Host]:
        sql = "SELECT * FROM hosts"
        params: tuple[str, ...] = ()
        if search:
            match = f"{self.db.dialect.like} ? ESCAPE '\\'"
            sql += f" WHERE name {match} OR address {match} OR username {match} OR os_name {match}"
            params = (like(search),) * 4
        return [host_of(r) for r in await self.db.fetch(sql + " ORDER BY name", params)]

    async def remove_host(self, name: str) -> int:
        host = await self.require_host(name)
        async with self.db.transaction() as db:
            count: int = await db.fetch_value("SELECT COUNT(*) FROM scans WHERE host_id = ?", (host.id,))
            await db.execute("DELETE FROM jobs WHERE host_id = ?", (host.id,))
            await db.execute("DELETE FROM hosts WHERE id = ?", (host.id,))
        return count
