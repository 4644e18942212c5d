"""The PostgreSQL backend of the store, shared by workers and TUIs on several machines: what
only it does (the pool, its migration runner under an advisory lock, LISTEN/NOTIFY, its
consistency check, rows copied in by `store migrate`, connection errors in one line); every
query is in the concern modules of SqlStore (sql_store.py), the pool's use in postgres_db.py.

Each method is one transaction on a connection of the pool (READ COMMITTED). Writers that
race for one row (a job, a schedule's slot) are settled by row locks, and the claim of a job
by FOR UPDATE SKIP LOCKED (see jobs.py). A listener connection LISTENs on the jobs channel so
that wait_for_change() returns as soon as any process changes a job.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from core.domain.errors import OperatorError
from core.domain.store_url import masked, where
from core.domain.text import redact
from core.domain.timeutil import now_iso
from core.store.base import StoreTooNew
from core.store.db import POSTGRES
from core.store.postgres_db import PostgresDb
from core.store.schema import CHANNEL, scripts
from core.store.sql_store import SqlStore

MIGRATIONS = scripts(POSTGRES)
MIGRATION_LOCK = 0x43540017  # an advisory lock: one process migrates, the others wait for it
POOL_SIZE = 8


class PostgresStore(SqlStore):
    notifies = True
    db: PostgresDb

    def __init__(self, pool: asyncpg.Pool, url: str):
        super().__init__(PostgresDb(pool))
        self.url = url  # never shown unmasked
        self._listener: asyncpg.Connection | None = None
        self._listen_lock = asyncio.Lock()  # the runner and the TUI both wait: one connection
        self._waiters: set[asyncio.Event] = set()

    @classmethod
    async def open(cls, url: str, min_size: int = 0, max_size: int = POOL_SIZE) -> "PostgresStore":
        """min_size 0: connections are made when needed, so a server restart costs no
        background reconnecting, just one failed call that the caller retries."""
        _quiet_asyncpg()
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size,
                                             command_timeout=60, server_settings={"application_name": "compliance-tui"})
            try:
                async with pool.acquire():  # connect now: a wrong password or host is said at open
                    pass
            except BaseException:
                pool.terminate()
                raise
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
            raise OperatorError(f"cannot open the store at {where(url)}: authentication failed "
                                f"({_server_words(exc)}); the password comes from $PGPASSWORD or ~/.pgpass") from None
        except asyncpg.InvalidCatalogNameError:
            raise OperatorError(f"cannot open the store at {where(url)}: no such database; create it "
                                "(docs/postgresql.md)") from None
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise OperatorError(f"cannot connect to the store at {where(url)}: {_connect_words(exc)}") from None
        store = cls(pool, url)
        try:
            await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            try:
                await listener.close(timeout=5)
            except (OSError, asyncpg.InterfaceError, asyncio.TimeoutError):
                listener.terminate()
        await self.db.pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore({masked(self.url)})"

    # ------------------------------------------------------------------ schema

    async def _migrate(self) -> None:
        async with self.db.pool.acquire() as db:
            async with db.transaction():
                await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                # looked up first: a role without CREATE (the app's) may open a migrated store
                if await db.fetchval("SELECT to_regclass('schema_migrations')") is None:
                    await db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                                     "applied_at TEXT NOT NULL)")
                version = await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                # steps with nothing for PostgreSQL (SQLite's 3 to 12) are only recorded, as any role may
                if any(MIGRATIONS[version:]) and not await db.fetchval(
                        "SELECT has_schema_privilege(current_schema(), 'CREATE')"):
                    raise OperatorError(
                        f"the store at {where(self.url)} needs its schema upgraded ({version} -> {len(MIGRATIONS)}) "
                        "and this role may not: run compliance-tui once as the database's owner role")
                if version > len(MIGRATIONS):
                    raise StoreTooNew(
                        f"the store at {where(self.url)} was written by a newer compliance-tui (schema "
                        f"{version}; this one knows {len(MIGRATIONS)}): upgrade compliance-tui")
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in script:
                        await db.execute(statement)
                    await db.execute("INSERT INTO schema_migrations VALUES ($1, $2)", number, now_iso())

    async def schema_version(self) -> int:
        version: int = await self.db.fetch_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return version

    async def integrity_check(self) -> str:
        """PostgreSQL keeps its own consistency (constraints, WAL); what is checked here is
        what the app relies on beyond it: no job or scan of a host that is gone, no running
        job without a lease."""
        problems = []
        for label, sql in (
            ("jobs without their host", "SELECT COUNT(*) FROM jobs j LEFT JOIN hosts h ON h.id = j.host_id "
             "WHERE h.id IS NULL"),
            ("running jobs without a lease", "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') "
             "AND (lease_owner IS NULL OR lease_until IS NULL)"),
        ):
            count = await self.db.fetch_value(sql)
            if count:
                problems.append(f"{count} {label}")
        return "; ".join(problems) or "ok"

    # ------------------------------------------------------------------ change notifications

    async def wait_for_change(self, timeout: float) -> bool:
        """True as soon as any process creates, ends or changes the state of a job (NOTIFY on
        the jobs channel), False after timeout seconds without one."""
        if not await self._listening():
            await asyncio.sleep(timeout)
            return False
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._waiters.discard(event)

    async def _listening(self) -> bool:
        async with self._listen_lock:
            return await self._listen()

    async def _listen(self) -> bool:
        if self._listener is not None and not self._listener.is_closed():
            return True
        try:
            self._listener = await asyncpg.connect(self.url, server_settings={"application_name": "compliance-tui"})
            await self._listener.add_listener(CHANNEL, self._notified)
            self._listener.add_termination_listener(lambda _conn: self._wake_all())
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self._listener = None  # the periodic refresh still works; try again next time
            return False
        return True

    def _notified(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        self._wake_all()

    def _wake_all(self) -> None:
        for event in self._waiters:
            event.set()

    # ------------------------------------------------------------------ copying in (store migrate)

    async def _column_types(self, table: str) -> dict[str, str]:
        rows = await self.db.fetch("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_schema = current_schema() AND table_name = ?", (table,))
        return {r["column_name"]: r["data_type"] for r in rows}

    async def import_rows(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> int:
        """Insert rows copied from another store, keeping every value (ids too); rows whose key
        is here already are left as they are, so a second copy adds nothing. Returns how many
        were added. table and columns come from core/store/copy.py, never from input."""
        types = await self._column_types(table)
        keep = [i for i, c in enumerate(columns) if c in types]
        flags = {i for i in keep if types[columns[i]] == "boolean"}  # SQLite keeps 0 and 1
        names = [columns[i] for i in keep]
        marks = ", ".join("?" * len(names))
        values = [tuple(bool(row[i]) if i in flags and row[i] is not None else row[i] for i in keep) for row in rows]
        async with self.db.transaction() as db:
            before: int = await db.fetch_value(f"SELECT COUNT(*) FROM {table}")
            for start in range(0, len(values), 5000):
                await db.execute_many(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
                                      "ON CONFLICT DO NOTHING", values[start:start + 5000])
            if "id" in names and types.get("id") == "bigint":  # identity columns go on after the copied ids
                await db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"GREATEST((SELECT MAX(id) FROM {table}), 1))")
            after: int = await db.fetch_value(f"SELECT COUNT(*) FROM {table}")
            return after - before

    async def missing_keys(self, table: str, key: list[str], keys: list[tuple[Any, ...]]) -> int:
        """How many of these keys (values of the key columns) have no row in the table."""
        types = await self._column_types(table)
        arrays = ", ".join(f"?::{types[c]}[]" for c in key)
        match = " AND ".join(f"t.{c} = k.{c}" for c in key)
        missing: int = await self.db.fetch_value(
            f"SELECT COUNT(*) FROM unnest({arrays}) AS k({', '.join(key)}) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})", [[k[i] for k in keys] for i in range(len(key))])
        return missing

    async def host_ids(self) -> dict[str, int]:
        return {r["name"]: r["id"] for r in await self.db.fetch("SELECT name, id FROM hosts")}


class _OneLine(logging.Filter):
    """asyncpg logs its own trouble (a pool refilling after a server restart) with a traceback:
    the operator gets its one-line gist instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {_server_words(error) if error else ''}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


def _quiet_asyncpg() -> None:
    logger = logging.getLogger("asyncpg.pool")  # the one logger asyncpg has (a filter is per logger)
    if not any(isinstance(f, _OneLine) for f in logger.filters):
        logger.addFilter(_OneLine())


def _server_words(exc: BaseException) -> str:
    """The server's message (it names the role; anything shaped like a secret redacted), on one line."""
    return " ".join(redact(str(exc)).split())[:200] or type(exc).__name__


def _connect_words(exc: Exception) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: check the host and port, and that PostgreSQL runs and listens there"
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time: check the host, the port and the firewall"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return _server_words(exc)
