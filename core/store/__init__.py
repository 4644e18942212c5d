"""The store: an interface by concern (base.py), each concern's queries written once (hosts.py,
scans.py, jobs.py, ... through db.py's protocol), and two backends: SQLite (sqlite.py, the
embedded default) and PostgreSQL (postgres.py, shared by workers and TUIs on several machines)."""

from __future__ import annotations

from pathlib import Path

from core.store.base import Store


async def open_store(path: Path, url: str | None = None) -> Store:
    """The PostgreSQL store the URL names, else the data dir's database file (SQLite)."""
    if url:
        from core.domain.store_url import check_url

        check_url(url, "the store URL", password_allowed=True)
        try:
            from core.store.postgres import PostgresStore
        except ImportError:
            from core.domain.errors import OperatorError

            raise OperatorError("a PostgreSQL store needs asyncpg: pip install 'compliance-tui[postgres]'") from None
        return await PostgresStore.open(url)
    from core.store.sqlite import SqliteStore

    return await SqliteStore.open(path)
