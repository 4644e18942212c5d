"""The store contract suite runs every test against each backend in BACKENDS."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.store.base import Store

BACKENDS = ["sqlite"]


async def open_backend(name: str, directory: Path) -> Store:
    if name == "sqlite":
        from core.store.sqlite import SqliteStore

        return await SqliteStore.open(directory / "c.db")
    raise ValueError(name)


@pytest.fixture(params=BACKENDS)
async def store(request, tmp_path):
    store = await open_backend(request.param, tmp_path)
    yield store
    await store.close()
