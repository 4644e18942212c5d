"""The store: an interface (base.py) and its backends (sqlite.py today)."""

from __future__ import annotations

from pathlib import Path

from core.store.base import Store


async def open_store(path: Path) -> Store:
    """The store in this data dir's database file (SQLite, the embedded default)."""
    from core.store.sqlite import SqliteStore

    return await SqliteStore.open(path)
