"""The SQLite backend of the store, the embedded default: what only it does (its file and
PRAGMAs, its migration runner, change polling, integrity_check, rows for `store migrate`);
every query is in the concern modules of SqlStore (sql_store.py), the connections in
sqlite_db.py."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, cast

import aiosqlite

from core.store.base import StoreTooNew
from core.store.db import SQLITE
from core.store.schema import JOBS_CHANGED, scripts
from core.store.sql_store import SqlStore
from core.store.sqlite_db import SqliteDb, SqliteTx

MIGRATIONS = scripts(SQLITE)
CHANGE_POLL = 1.0  # seconds between looks at the job change counter (wait_for_change)


class SqliteStore(SqlStore):
    db: SqliteDb

    def __init__(self, db: SqliteDb, path: Path):
        super().__init__(db)
        self.path = path
        self._jobs_seen: str | None = None  # the job change counter as wait_for_change last read it

    @classmethod
    async def open(cls, path: Path) -> "SqliteStore":
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # private from the first byte: it lists every host's weaknesses
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        writer = await aiosqlite.connect(path, isolation_level=None)
        writer.row_factory = aiosqlite.Row
        store = cls(SqliteDb(writer), path)
        try:
            await writer.execute("PRAGMA busy_timeout=30000")
            await writer.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a commit does not wait for fsync; a power loss may drop the
            # last commits but never corrupts the file (SQLite's advice for WAL)
            await writer.execute("PRAGMA synchronous=NORMAL")
            await writer.execute("PRAGMA foreign_keys=ON")
            await store._migrate()
            reader = await aiosqlite.connect(path, isolation_level=None)
            reader.row_factory = aiosqlite.Row
            for pragma in ("busy_timeout=30000", "query_only=ON", "foreign_keys=ON"):
                await reader.execute(f"PRAGMA {pragma}")
            store.db.add_reader(reader)
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        await self.db.close()

    async def _migrate(self) -> None:
        """Each step in a BEGIN IMMEDIATE of its own, skipped when another process ran it
        while this one waited."""
        writer = self.db.connection
        async with self.db.write_lock:
            version = await self.schema_version()
            if version > len(MIGRATIONS):
                raise StoreTooNew(
                    f"{self.path} was written by a newer compliance-tui (schema {version}; this one "
                    f"knows {len(MIGRATIONS)}): upgrade compliance-tui, or open another data dir")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await writer.execute("BEGIN IMMEDIATE")
                try:
                    if await self.schema_version() >= number:
                        await writer.execute("ROLLBACK")
                        continue
                    for statement in script:
                        await writer.execute(statement)
                    await writer.execute(f"PRAGMA user_version={number}")
                    await writer.execute("COMMIT")
                except BaseException:
                    await writer.execute("ROLLBACK")
                    raise

    async def schema_version(self) -> int:
        # on the writer: _migrate asks while it holds the write lock
        version: int = await SqliteTx(self.db.connection).fetch_value("PRAGMA user_version")
        return version

    async def integrity_check(self) -> str:
        rows = await self.db.fetch("PRAGMA integrity_check")
        return "; ".join(r[0] for r in rows)

    async def wait_for_change(self, timeout: float) -> bool:
        """True once any process has created, removed or changed the state of a job since the
        last call (step 12's counter, read every CHANGE_POLL seconds: one row of meta),
        False after timeout seconds without one. One caller at a time: the TUI's StoreChanges."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._jobs_seen is None:
            self._jobs_seen = await self.get_meta(JOBS_CHANGED)
        while True:
            now = await self.get_meta(JOBS_CHANGED)
            if now != self._jobs_seen:
                self._jobs_seen = now
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(CHANGE_POLL, left))

    async def export_rows(self, table: str, order: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Every row of one table as stored, in this order, and the column names (for `store
        migrate`; table and order come from core/store/copy.py, never from input)."""
        async with self.db.read_lock:
            cursor = await self.db.reader.execute(f"SELECT * FROM {table} ORDER BY {order}")
            cursor._cursor.row_factory = None
            try:
                rows = cast(list[tuple[Any, ...]], await cursor.fetchall())  # row_factory None: tuples
                columns = [d[0] for d in cursor.description]
            finally:
                await cursor.close()
        return columns, rows
