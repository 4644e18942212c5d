"""The SQLite adapter of the database protocol (db.py), over aiosqlite.

One connection writes; a lock makes each transaction whole, because the concurrent jobs of a
process share it. Other processes wait for the write lock (busy_timeout); a transaction takes
it at BEGIN IMMEDIATE, so it never fails half-way. Plain reads go through a second, read-only
connection: WAL lets them run while a write of this process waits behind a busy worker, so a
screen never waits for a write.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Sequence, cast

import aiosqlite

from core.store.db import SQLITE, Params, Row, WritesAlone


async def fetch_tuples(connection: aiosqlite.Connection, sql: str, params: Params) -> list[tuple[Any, ...]]:
    cursor = await connection.execute(sql, tuple(params))
    cursor._cursor.row_factory = None  # plain tuples: no sqlite3.Row per row
    try:
        return cast(list[tuple[Any, ...]], await cursor.fetchall())  # aiosqlite types them as Rows
    finally:
        await cursor.close()


class SqliteTx:
    """The statements of one write transaction, on the writer connection."""

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection):
        self.connection = connection

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.connection.execute_fetchall(sql, tuple(params)))

    async def fetch_tuples(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return await fetch_tuples(self.connection, sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return await (await self.connection.execute(sql, tuple(params))).fetchone()

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        return (await self.connection.execute(sql, tuple(params))).rowcount

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            await self.connection.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["SqliteTx"]:
        yield self  # already in one

    async def try_advisory_lock(self, key: int, sub: int, shared: bool) -> bool:
        return True  # BEGIN IMMEDIATE: no other writer runs until this one ends

    def unique_violation(self, exc: BaseException, index: str, columns: str) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and (columns in str(exc) or index in str(exc))


class SqliteDb(WritesAlone, SqliteTx):
    """The store's database: reads on the reader connection, transactions on the writer."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection | None = None):
        super().__init__(writer)
        self.reader = reader or writer
        self.write_lock = asyncio.Lock()
        self.read_lock = asyncio.Lock() if reader else self.write_lock

    def add_reader(self, reader: aiosqlite.Connection) -> None:
        self.reader, self.read_lock = reader, asyncio.Lock()

    async def close(self) -> None:
        if self.reader is not self.connection:
            await self.reader.close()
        await self.connection.close()

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.read_lock:
            return list(await self.reader.execute_fetchall(sql, tuple(params)))

    async def fetch_tuples(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        async with self.read_lock:
            return await fetch_tuples(self.reader, sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        """One write transaction on the shared connection, whole even when the task is
        cancelled half-way: aiosqlite runs statements in order, so a ROLLBACK or COMMIT
        issued under shield always lands after what came before it."""
        async with self.write_lock:
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
                yield SqliteTx(self.connection)
            except BaseException:
                await asyncio.shield(self._end("ROLLBACK"))
                raise
            await asyncio.shield(self._end("COMMIT"))

    async def _end(self, statement: str) -> None:
        try:
            await self.connection.execute(statement)
        except sqlite3.OperationalError as exc:  # BEGIN never ran: nothing to end
            if "no transaction is active" not in str(exc):
                raise
