"""The PostgreSQL adapter of the database protocol (db.py), over an asyncpg pool.

Queries are written with `?` (db.py); asyncpg wants $1..$n, so each text is rewritten once
(cached: the same few hundred texts come back all day). Outside a transaction each call takes
a pooled connection of its own; transaction() holds one (READ COMMITTED) until it ends.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, AsyncIterator, Sequence, cast

import asyncpg

from core.store.db import POSTGRES, Params, Row, WritesAlone


@lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """sql with each `?` outside quotes ('text', "name") as $1, $2, ... in order."""
    out, n, quote = [], 0, ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""  # a doubled quote ('') closes and opens again: same result
        elif char in "'\"":
            quote = char
        elif char == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(char)
    return "".join(out)


def changed(status: str) -> int:
    """The row count at the end of a command tag: 'UPDATE 3', 'INSERT 0 1'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTx:
    """The statements of one transaction, on its connection. asyncpg has no types: what it
    returns is given its type here, once."""

    dialect = POSTGRES

    def __init__(self, connection: asyncpg.Connection):
        self.connection = connection

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return cast(list[Row], await self.connection.fetch(numbered(sql), *params))  # list[Record]

    async def fetch_tuples(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.fetch(sql, params)]

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return cast("Row | None", await self.connection.fetchrow(numbered(sql), *params))

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        return await self.connection.fetchval(numbered(sql), *params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return changed(await self.connection.execute(numbered(sql), *params))

    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:  # one statement, every row: a schedule's thousands of jobs in one round trip
            await self.connection.executemany(numbered(sql), rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["PostgresTx"]:
        yield self  # already in one

    async def try_advisory_lock(self, key: int, sub: int, shared: bool) -> bool:
        lock = "pg_try_advisory_xact_lock_shared" if shared else "pg_try_advisory_xact_lock"
        return cast(bool, await self.connection.fetchval(f"SELECT {lock}($1, $2::int)", key, sub))

    def unique_violation(self, exc: BaseException, index: str, columns: str) -> bool:
        return isinstance(exc, asyncpg.UniqueViolationError) and exc.constraint_name == index


class PostgresDb(WritesAlone, PostgresTx):
    """The store's database: a pooled connection per call or per transaction."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.pool.acquire() as connection:
            return await PostgresTx(connection).fetch(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self.pool.acquire() as connection:
            return await PostgresTx(connection).fetch_one(sql, params)

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        async with self.pool.acquire() as connection:
            return await PostgresTx(connection).fetch_value(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTx]:
        async with self.pool.acquire() as connection:
            async with connection.transaction():
                yield PostgresTx(connection)

    async def try_advisory_lock(self, key: int, sub: int, shared: bool) -> bool:
        raise RuntimeError("an advisory lock outlives nothing outside a transaction")
