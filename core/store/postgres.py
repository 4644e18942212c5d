"""The PostgreSQL backend of the store (core/store/base.py), through an asyncpg pool: hosts,
content and scans here, the job queue in postgres_jobs.py, schedules, exceptions, fleet reads
and AI in postgres_policy.py. Several machines share one such store (workers per zone, TUIs).

Each method is one transaction on a connection of the pool (READ COMMITTED). Writers that
race for one row (a job, a schedule's slot) are settled by row locks, and the claim of a job
by FOR UPDATE SKIP LOCKED (see postgres_jobs.py). A listener connection LISTENs on the jobs
channel so that wait_for_change() returns as soon as any process changes a job.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Iterable

import asyncpg

from core.domain.errors import InvalidInput, NotFound, OperatorError
from core.domain.models import Host, RuleInfo, RuleResult, Scan
from core.domain.store_url import masked, where
from core.domain.text import redact
from core.domain.timeutil import now_iso
from core.store.base import Store, StoreTooNew
from core.store.postgres_jobs import PostgresJobs
from core.store.postgres_migrations import CHANNEL, MIGRATIONS
from core.store.postgres_policy import PostgresPolicy
from core.store.shared_sql import HOST_FIELDS, RESULT_ORDER, SCAN_SELECT
from core.store.sqlite import COUNT_COLUMNS, _host, _scan  # row -> model readers: no SQL in them

RESULT_INSERT = "INSERT INTO rule_results (scan_id, rule_id, result, severity, seconds) VALUES ($1, $2, $3, $4, $5)"
MIGRATION_LOCK = 0x43540017  # an advisory lock: one process migrates, the others wait for it
POOL_SIZE = 8


def like(text: str) -> str:
    """An ILIKE pattern that finds text anywhere (backslash is PostgreSQL's default escape)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def host_value(host: Host, column: str):
    if column == "tags":
        return json.dumps(list(host.tags))
    return getattr(host, column, None)


class PostgresStore(PostgresJobs, PostgresPolicy, Store):
    notifies = True

    def __init__(self, pool: asyncpg.Pool, url: str):
        self._pool = pool
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
        await self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore({masked(self.url)})"

    # ------------------------------------------------------------------ schema

    async def _migrate(self) -> None:
        async with self._pool.acquire() as db:
            async with db.transaction():
                await db.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                # looked up first: a role without CREATE (the app's) may open a migrated store
                if await db.fetchval("SELECT to_regclass('schema_migrations')") is None:
                    await db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                                     "applied_at TEXT NOT NULL)")
                version = await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                if version < len(MIGRATIONS) and not await db.fetchval(
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
        return await self._val("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")

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
            count = await self._val(sql)
            if count:
                problems.append(f"{count} {label}")
        return "; ".join(problems) or "ok"

    # ------------------------------------------------------------------ connections

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as db:
            async with db.transaction():
                yield db

    async def _rows(self, sql: str, *args) -> list[asyncpg.Record]:
        async with self._pool.acquire() as db:
            return await db.fetch(sql, *args)

    async def _val(self, sql: str, *args):
        async with self._pool.acquire() as db:
            return await db.fetchval(sql, *args)

    async def _by_prefix(self, select: str, column: str, given: str, what: str, listing: str) -> list:
        given = given.strip().lower()
        if len(given) < 8:
            raise InvalidInput(f"{what} id {given!r} is too short: give at least its first 8 characters")
        # a range on the "C"-collated key: an index seek, as on SQLite (left() would read every row)
        rows = await self._rows(f"{select} WHERE {column} >= $1 AND {column} < $2 LIMIT 2", given, given + "\uffff")
        if not rows:
            raise NotFound(f"no {what} {given!r}; see `compliance-tui {listing}`")
        if len(rows) > 1:
            raise InvalidInput(f"{what} id {given!r} is ambiguous; give more characters")
        return rows

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

    def _notified(self, _conn, _pid, _channel, _payload) -> None:
        self._wake_all()

    def _wake_all(self) -> None:
        for event in self._waiters:
            event.set()

    # ------------------------------------------------------------------ copying in (store migrate)

    async def _column_types(self, table: str) -> dict[str, str]:
        rows = await self._rows("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_schema = current_schema() AND table_name = $1", table)
        return {r["column_name"]: r["data_type"] for r in rows}

    async def import_rows(self, table: str, columns: list[str], rows: list[tuple]) -> int:
        """Insert rows copied from another store, keeping every value (ids too); rows whose key
        is here already are left as they are, so a second copy adds nothing. Returns how many
        were added. table and columns come from core/store/copy.py, never from input."""
        types = await self._column_types(table)
        keep = [i for i, c in enumerate(columns) if c in types]
        flags = {i for i in keep if types[columns[i]] == "boolean"}  # SQLite keeps 0 and 1
        names = [columns[i] for i in keep]
        marks = ", ".join(f"${n}" for n in range(1, len(names) + 1))
        values = [tuple(bool(row[i]) if i in flags and row[i] is not None else row[i] for i in keep) for row in rows]
        async with self._transaction() as db:
            before = await db.fetchval(f"SELECT COUNT(*) FROM {table}")
            for start in range(0, len(values), 5000):
                await db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
                                     "ON CONFLICT DO NOTHING", values[start:start + 5000])
            if "id" in names and types.get("id") == "bigint":  # identity columns go on after the copied ids
                await db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"GREATEST((SELECT MAX(id) FROM {table}), 1))")
            return await db.fetchval(f"SELECT COUNT(*) FROM {table}") - before

    async def missing_keys(self, table: str, key: list[str], keys: list[tuple]) -> int:
        """How many of these keys (values of the key columns) have no row in the table."""
        types = await self._column_types(table)
        arrays = ", ".join(f"${n}::{types[c]}[]" for n, c in enumerate(key, start=1))
        match = " AND ".join(f"t.{c} = k.{c}" for c in key)
        return await self._val(
            f"SELECT COUNT(*) FROM unnest({arrays}) AS k({', '.join(key)}) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})", *([k[i] for k in keys] for i in range(len(key))))

    async def host_ids(self) -> dict[str, int]:
        return {r["name"]: r["id"] for r in await self._rows("SELECT name, id FROM hosts")}

    # ------------------------------------------------------------------ meta

    async def get_meta(self, key: str) -> str | None:
        return await self._val("SELECT value FROM meta WHERE key = $1", key)

    async def set_meta(self, key: str, value: str) -> None:
        async with self._transaction() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES ($1, $2) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)

    # ------------------------------------------------------------------ hosts

    async def add_host(self, host: Host) -> Host:
        found, created = await self.get_or_add_host(host)
        if not created:
            raise InvalidInput(f"host {host.name!r} exists already; choose another name")
        return found

    async def get_or_add_host(self, host: Host) -> tuple[Host, bool]:
        host.created_at = now_iso()
        async with self._transaction() as db:
            created = await self._insert_host(db, host)
            row = await db.fetchrow("SELECT * FROM hosts WHERE name = $1", host.name)
        return _host(row), created

    async def _insert_host(self, db, host: Host) -> bool:
        columns = HOST_FIELDS + ("created_at",)
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        inserted = await db.fetchval(
            f"INSERT INTO hosts ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT (name) DO NOTHING RETURNING id",
            *(host_value(host, c) for c in columns))
        return inserted is not None

    async def update_host(self, host: Host) -> None:
        assignments = ", ".join(f"{c} = ${n}" for n, c in enumerate(HOST_FIELDS, start=1))
        async with self._transaction() as db:
            await db.execute(f"UPDATE hosts SET {assignments} WHERE id = ${len(HOST_FIELDS) + 1}",
                             *(host_value(host, c) for c in HOST_FIELDS), host.id)

    async def get_host(self, name: str) -> Host | None:
        rows = await self._rows("SELECT * FROM hosts WHERE name = $1", name)
        return _host(rows[0]) if rows else None

    async def find_hosts(self, search: str | None = None) -> list[Host]:
        if not search:
            return [_host(r) for r in await self._rows("SELECT * FROM hosts ORDER BY name")]
        rows = await self._rows(
            "SELECT * FROM hosts WHERE name ILIKE $1 OR address ILIKE $1 OR username ILIKE $1 "
            "OR os_name ILIKE $1 ORDER BY name", like(search))
        return [_host(r) for r in rows]

    async def remove_host(self, name: str) -> int:
        host = await self.require_host(name)
        async with self._transaction() as db:
            count = await db.fetchval("SELECT COUNT(*) FROM scans WHERE host_id = $1", host.id)
            await db.execute("DELETE FROM jobs WHERE host_id = $1", host.id)
            await db.execute("DELETE FROM hosts WHERE id = $1", host.id)
        return count

    async def files_in_use(self, paths: list[str]) -> set[str]:
        rows = await self._rows(
            "SELECT arf_path AS p FROM scans WHERE arf_path = ANY($1::text[]) "
            "UNION SELECT tailoring_file FROM hosts WHERE tailoring_file = ANY($1::text[])", list(paths))
        return {r["p"] for r in rows}

    # evidence retention (issue 15, on main): which scans keep an ARF, and forgetting it
    async def evidence_scans(self) -> list[tuple[str, int, str, str, str]]:
        rows = await self._rows("SELECT id, host_id, profile_id, created_at, arf_path FROM scans "
                                "WHERE arf_path IS NOT NULL ORDER BY created_at DESC, id DESC")
        return [tuple(r) for r in rows]

    async def forget_evidence(self, scan_ids: list[str]) -> None:
        async with self._transaction() as db:
            await db.execute("UPDATE scans SET arf_path = NULL WHERE id = ANY($1::text[])", list(scan_ids))

    # ------------------------------------------------------------------ content and rule texts

    async def has_rules(self, content_id: str) -> bool:
        return bool(await self._rows("SELECT 1 FROM rules WHERE content_id = $1 LIMIT 1", content_id))

    async def save_content(
        self, content_id: str, file_name: str, benchmark_id: str | None,
        version: str | None, rules: Iterable[RuleInfo] = (), derived_from: str | None = None,
    ) -> None:
        rows = [(content_id, r.rule_id, r.title, r.severity, r.description, r.rationale,
                 r.fixtext, r.fix_script) for r in rules]
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO contents (id, file_name, benchmark_id, version, added_at, derived_from) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                content_id, file_name, benchmark_id, version, now_iso(), derived_from)
            if rows:
                await db.executemany(
                    "INSERT INTO rules (content_id, rule_id, title, severity, description, rationale, fixtext, "
                    "fix_script) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (content_id, rule_id) DO "
                    "UPDATE SET title = excluded.title, severity = excluded.severity, "
                    "description = excluded.description, rationale = excluded.rationale, "
                    "fixtext = excluded.fixtext, fix_script = excluded.fix_script", rows)

    async def rule_infos(self, content_id: str, rule_ids: list[str] | None = None) -> dict[str, RuleInfo]:
        if rule_ids is None:
            rows = await self._rows("SELECT * FROM rules WHERE content_id = $1", content_id)
        else:
            rows = await self._rows("SELECT * FROM rules WHERE content_id = $1 AND rule_id = ANY($2::text[])",
                                    content_id, list(rule_ids))
        return {
            r["rule_id"]: RuleInfo(r["rule_id"], r["title"] or "", r["severity"] or "unknown",
                                   r["description"] or "", r["rationale"] or "",
                                   r["fixtext"] or "", r["fix_script"] or "")
            for r in rows
        }

    async def get_content(self, content_id: str) -> dict | None:
        rows = await self._rows(
            "SELECT id, file_name, benchmark_id, version, added_at FROM contents WHERE id = $1", content_id)
        return dict(rows[0]) if rows else None

    # ------------------------------------------------------------------ scans

    async def get_scan(self, scan_id: str) -> Scan:
        rows = await self._by_prefix(SCAN_SELECT, "s.id", scan_id, "scan", "scans list")
        return _scan(rows[0])

    async def find_scans(
        self, host: str | None = None, status: str | None = None, id_prefix: str | None = None,
        since: str | None = None, until: str | None = None, limit: int | None = None,
    ) -> list[Scan]:
        where_, params = [], []
        for clause, value in (("h.name = {}", host), ("s.status = {}", status),
                              ("s.created_at >= {}", since), ("s.created_at < {}", until)):
            if value is not None:
                params.append(value)
                where_.append(clause.format(f"${len(params)}"))
        if id_prefix:
            params.append(id_prefix.strip().lower())
            where_.append(f"left(s.id, length(${len(params)})) = ${len(params)}")
        sql = SCAN_SELECT + (f" WHERE {' AND '.join(where_)}" if where_ else "")
        sql += " ORDER BY s.created_at DESC, s.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_scan(r) for r in await self._rows(sql, *params)]

    async def rule_results(
        self, scan_id: str, result: str | None = None, order: str = "rule",
        search: str | None = None, severity: str | None = None,
    ) -> list[RuleResult]:
        sql = (
            "SELECT r.rule_id, r.result, COALESCE(NULLIF(i.severity, 'unknown'), r.severity) AS severity, "
            "COALESCE(i.title, '') AS title, r.seconds FROM rule_results r JOIN scans s ON s.id = r.scan_id "
            "LEFT JOIN rules i ON i.content_id = s.content_id AND i.rule_id = r.rule_id WHERE r.scan_id = $1"
        )
        params: list = [scan_id]
        if result:
            params.append(result)
            sql += f" AND r.result = ${len(params)}"
        if severity:
            params.append(severity)
            sql += f" AND COALESCE(NULLIF(i.severity, 'unknown'), r.severity) = ${len(params)}"
        if search:
            params.append(like(search))
            sql += f" AND (r.rule_id ILIKE ${len(params)} OR i.title ILIKE ${len(params)})"
        rows = await self._rows(sql + f" ORDER BY {RESULT_ORDER[order]}", *params)
        return [RuleResult(r["rule_id"], r["result"], r["severity"] or "unknown", r["title"], r["seconds"])
                for r in rows]

    async def latest_completed_scans(self) -> dict[str, Scan]:
        rows = await self._rows(
            f"{SCAN_SELECT} WHERE s.id IN (SELECT (SELECT x.id FROM scans x WHERE x.host_id = hh.id "
            "AND x.status = 'completed' ORDER BY x.created_at DESC, x.id DESC LIMIT 1) FROM hosts hh)")
        return {r["host_name"]: _scan(r) for r in rows}

    async def scan_status_counts(self, host: str | None = None) -> dict[str, int]:
        sql = "SELECT s.status, COUNT(*) AS n FROM scans s JOIN hosts h ON h.id = s.host_id"
        if host is None:
            rows = await self._rows(sql + " GROUP BY s.status")
        else:
            rows = await self._rows(sql + " WHERE h.name = $1 GROUP BY s.status", host)
        return {r["status"]: r["n"] for r in rows}

    async def scan_counts_by_host(self) -> dict[str, int]:
        rows = await self._rows(
            "SELECT h.name, COUNT(s.id) AS n FROM hosts h LEFT JOIN scans s ON s.host_id = h.id GROUP BY h.id")
        return {r["name"]: r["n"] for r in rows}

    async def assign_content(
        self, scan_id: str, profile_id: str, content_id: str, progress_total: int | None,
        tailoring: tuple[str, str, str] | None = None,
    ) -> None:
        name, digest, base = tailoring or (None, None, None)
        now = now_iso()
        async with self._transaction() as db:
            await db.execute(
                "UPDATE scans SET profile_id = $1, content_id = $2, progress_total = $3, tailoring_file = $4, "
                "tailoring_sha256 = $5, base_profile_id = $6, updated_at = $7 WHERE id = $8",
                profile_id, content_id, progress_total, name, digest, base, now, scan_id)
            await db.execute("UPDATE jobs SET progress_total = $1, updated_at = $2 WHERE scan_id = $3 "
                             "AND status = 'running'", progress_total, now, scan_id)

    async def complete_scan(
        self, scan_id: str, results: Iterable[RuleResult], counts: dict[str, int],
        score: float | None, notice: str | None, arf_path: str | None,
        started_at: str | None = None, finished_at: str | None = None,
        job_id: str | None = None, output: str | None = None,
    ) -> None:
        rows = [(scan_id, r.rule_id, r.result, r.severity, r.seconds) for r in results if r.result != "notselected"]
        count_sql = ", ".join(f"{col} = ${n}" for n, col in enumerate(COUNT_COLUMNS.values(), start=1))
        k = len(COUNT_COLUMNS)
        now = now_iso()
        finished = finished_at or now
        async with self._transaction() as db:
            if rows:
                await db.executemany(RESULT_INSERT, rows)
            await db.execute(
                f"UPDATE scans SET status = 'completed', {count_sql}, score = ${k + 1}, notice = ${k + 2}, "
                f"arf_path = ${k + 3}, progress_done = ${k + 4}, finished_at = ${k + 5}, updated_at = ${k + 6}, "
                f"started_at = COALESCE(${k + 7}, started_at, ${k + 5}) WHERE id = ${k + 8}",
                *(counts.get(r, 0) for r in COUNT_COLUMNS), score, notice, arf_path, len(rows), finished, now,
                started_at, scan_id)
            if job_id:
                await db.execute(
                    "UPDATE jobs SET status = 'completed', started_at = COALESCE($1, started_at), finished_at = $2, "
                    "updated_at = $3, progress_done = $4, output = COALESCE($5, output), current = NULL, "
                    "lease_until = NULL WHERE id = $6", started_at, finished, now, len(rows), output, job_id)

    async def add_imported_scans(self, imported: list[tuple[Scan, list[RuleResult]]],
                                 new_host: Host | None = None) -> Host | None:
        columns = (
            "id", "host_id", "profile", "profile_id", "content_id", "status", "progress_done",
            "progress_total", "score", "notice", "arf_path", "created_at", "started_at",
            "finished_at", "updated_at", "origin", "source_file", "source_sha256", "result_key", "target",
        ) + tuple(COUNT_COLUMNS.values())
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        insert = f"INSERT INTO scans ({', '.join(columns)}) VALUES ({marks})"
        try:
            async with self._transaction() as db:
                host = None
                if new_host is not None:
                    new_host.created_at = now_iso()
                    await self._insert_host(db, new_host)
                    host = _host(await db.fetchrow("SELECT * FROM hosts WHERE name = $1", new_host.name))
                scan_rows, result_rows = [], []
                for scan, results in imported:
                    if host is not None:
                        scan.host_id = host.id
                    rows = [(scan.id, r.rule_id, r.result, r.severity, r.seconds) for r in results
                            if r.result != "notselected"]
                    scan_rows.append((
                        scan.id, scan.host_id, scan.profile, scan.profile_id, scan.content_id, "completed",
                        len(rows), len(rows), scan.score, scan.notice, scan.arf_path, scan.created_at,
                        scan.started_at, scan.finished_at, now_iso(), "import", scan.source_file,
                        scan.source_sha256, scan.result_key, scan.target,
                    ) + tuple(scan.counts.get(r, 0) for r in COUNT_COLUMNS))
                    result_rows += rows
                await db.executemany(insert, scan_rows)
                if result_rows:
                    await db.executemany(RESULT_INSERT, result_rows)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "scans_imported_once":
                raise
            raise InvalidInput("this TestResult is already imported for the host (another import "
                               "stored it at the same time)") from None
        return host

    async def find_imported(self, host_id: int, result_key: str) -> Scan | None:
        rows = await self._rows(f"{SCAN_SELECT} WHERE s.host_id = $1 AND s.result_key = $2", host_id, result_key)
        return _scan(rows[0]) if rows else None


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


def _server_words(exc: Exception) -> str:
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
