"""The store contract suite runs every test against each backend in BACKENDS: SQLite in a
temp file, PostgreSQL in a fresh database of the session's private server."""

from __future__ import annotations

from pathlib import Path

import pytest_asyncio

from core.store.base import Store

BACKENDS = ["sqlite", "postgres"]


async def open_backend(name: str, where: Path | str) -> Store:
    """A store of this backend: where is a directory (SQLite) or a database URL (PostgreSQL)."""
    if name == "sqlite":
        from core.store.sqlite import SqliteStore

        return await SqliteStore.open(Path(where) / "c.db")
    if name == "postgres":
        from core.store.postgres import PostgresStore

        return await PostgresStore.open(str(where))
    raise ValueError(name)


async def reopen(store: Store) -> Store:
    """Another store (its own connections) on the same database, as a second process has."""
    from core.store.postgres import PostgresStore

    if isinstance(store, PostgresStore):
        return await PostgresStore.open(store.url)
    return await open_backend("sqlite", store.path.parent)


# the test's own event loop: asyncpg's connections belong to the loop that made them
@pytest_asyncio.fixture(params=BACKENDS, loop_scope="function")
async def store(request, tmp_path):
    where = request.getfixturevalue("pg_url") if request.param == "postgres" else tmp_path
    store = await open_backend(request.param, where)
    yield store
    await store.close()
