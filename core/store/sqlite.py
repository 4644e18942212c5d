"""The SQLite backend of the store (core/store/base.py): hosts, content and scans here, the
job queue in sqlite_jobs.py, AI explanations and usage in sqlite_ai.py.

One aiosqlite connection per store for writes; a lock makes each method one transaction, because
the concurrent jobs of a process share the connection. Other processes wait for the write lock
(busy_timeout); writers take it at BEGIN IMMEDIATE, so a transaction never fails half-way.
Plain reads go through a second, read-only connection: WAL lets them run while a write of this
process waits for the lock behind a busy worker, so a screen never waits for a write.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Iterable

import aiosqlite

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import RESULT_VALUES, Host, RuleInfo, RuleResult, Scan, ScanStatus
from core.domain.timeutil import now_iso
from core.store.base import Store, StoreTooNew
from core.store.shared_sql import HOST_FIELDS as _HOST_FIELDS
from core.store.shared_sql import RESULT_ORDER
from core.store.shared_sql import SCAN_SELECT as _SCAN_SELECT
from core.store.sqlite_ai import SqliteAi
from core.store.sqlite_jobs import SqliteJobs
from core.store.sqlite_migrations import MIGRATIONS
from core.store.sqlite_policy import SqlitePolicy
from core.store.sqlite_schedules import SqliteSchedules

COUNT_COLUMNS = {r: f"n_{r}" for r in RESULT_VALUES}
RESULT_INSERT = "INSERT INTO rule_results (scan_id, rule_id, result, severity, seconds) VALUES (?, ?, ?, ?, ?)"


def like(text: str) -> str:
    """A LIKE pattern (ESCAPE '\\') that finds text anywhere."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SqliteStore(SqliteJobs, SqliteAi, SqliteSchedules, SqlitePolicy, Store):
    def __init__(self, db: aiosqlite.Connection, path: Path, reader: aiosqlite.Connection | None = None):
        self._db = db
        self._reader = reader or db
        self.path = path
        self._lock = asyncio.Lock()
        self._read_lock = asyncio.Lock() if reader else self._lock
        self._jobs_seen: str | None = None  # the job change counter as wait_for_change last read it

    @classmethod
    async def open(cls, path: Path) -> "SqliteStore":
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # private from the first byte: it lists every host's weaknesses
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        store = cls(db, path)
        try:
            await db.execute("PRAGMA busy_timeout=30000")
            await db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a commit does not wait for fsync; a power loss may drop the
            # last commits but never corrupts the file (SQLite's advice for WAL)
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await store._migrate()
            reader = await aiosqlite.connect(path, isolation_level=None)
            reader.row_factory = aiosqlite.Row
            for pragma in ("busy_timeout=30000", "query_only=ON", "foreign_keys=ON"):
                await reader.execute(f"PRAGMA {pragma}")
            store._reader, store._read_lock = reader, asyncio.Lock()
        except BaseException:
            await store.close()
            raise
        return store

    async def close(self) -> None:
        if self._reader is not self._db:
            await self._reader.close()
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._lock:
            (version,) = await (await self._db.execute("PRAGMA user_version")).fetchone()
            if version > len(MIGRATIONS):
                raise StoreTooNew(
                    f"{self.path} was written by a newer compliance-tui (schema {version}; this one "
                    f"knows {len(MIGRATIONS)}): upgrade compliance-tui, or open another data dir")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    (now,) = await (await self._db.execute("PRAGMA user_version")).fetchone()
                    if now >= number:  # another process migrated it while we waited
                        await self._db.execute("ROLLBACK")
                        continue
                    for statement in script:
                        await self._db.execute(statement)
                    await self._db.execute(f"PRAGMA user_version={number}")
                    await self._db.execute("COMMIT")
                except BaseException:
                    await self._db.execute("ROLLBACK")
                    raise

    async def schema_version(self) -> int:
        (version,) = await (await self._db.execute("PRAGMA user_version")).fetchone()
        return version

    async def integrity_check(self) -> str:
        rows = await self._rows("PRAGMA integrity_check")
        return "; ".join(r[0] for r in rows)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on the shared connection, whole even when the task is
        cancelled half-way: aiosqlite runs statements in order, so a ROLLBACK or COMMIT
        issued under shield always lands after what came before it."""
        async with self._lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                yield self._db
            except BaseException:
                await asyncio.shield(self._end("ROLLBACK"))
                raise
            await asyncio.shield(self._end("COMMIT"))

    async def _end(self, statement: str) -> None:
        try:
            await self._db.execute(statement)
        except sqlite3.OperationalError as exc:  # BEGIN never ran: nothing to end
            if "no transaction is active" not in str(exc):
                raise

    async def _write(self, statements: Iterable[tuple[str, tuple | list]]) -> None:
        """Run statements as one transaction; a list of parameter tuples runs once per row."""
        async with self._transaction() as db:
            for sql, params in statements:
                if isinstance(params, list):
                    if params:
                        await db.executemany(sql, params)
                else:
                    await db.execute(sql, params)

    async def _rows(self, sql: str, params: tuple | list = ()) -> list[aiosqlite.Row]:
        async with self._read_lock:
            return list(await self._reader.execute_fetchall(sql, tuple(params)))

    async def export_rows(self, table: str, order: str) -> tuple[list[str], list[tuple]]:
        """Every row of one table as stored, in this order (for `store migrate`; table and
        order come from core/store/copy.py, never from input)."""
        async with self._read_lock:
            cursor = await self._reader.execute(f"SELECT * FROM {table} ORDER BY {order}")
            cursor._cursor.row_factory = None
            try:
                rows = await cursor.fetchall()
                columns = [d[0] for d in cursor.description]
            finally:
                await cursor.close()
        return columns, rows

    async def get_meta(self, key: str) -> str | None:
        rows = await self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._write([("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))])

    # ------------------------------------------------------------------ hosts

    async def add_host(self, host: Host) -> Host:
        found, created = await self.get_or_add_host(host)
        if not created:
            raise InvalidInput(f"host {host.name!r} exists already; choose another name")
        return found

    async def get_or_add_host(self, host: Host) -> tuple[Host, bool]:
        columns = _HOST_FIELDS + ("created_at",)
        host.created_at = now_iso()
        values = tuple(_host_value(host, c) for c in columns)
        async with self._transaction() as db:
            cursor = await db.execute(
                f"INSERT INTO hosts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
                "ON CONFLICT(name) DO NOTHING", values)
            created = cursor.rowcount == 1
            row = await (await db.execute("SELECT * FROM hosts WHERE name = ?", (host.name,))).fetchone()
        return _host(row), created

    async def update_host(self, host: Host) -> None:
        assignments = ", ".join(f"{c} = ?" for c in _HOST_FIELDS)
        values = tuple(_host_value(host, c) for c in _HOST_FIELDS) + (host.id,)
        await self._write([(f"UPDATE hosts SET {assignments} WHERE id = ?", values)])

    async def get_host(self, name: str) -> Host | None:
        rows = await self._rows("SELECT * FROM hosts WHERE name = ?", (name,))
        return _host(rows[0]) if rows else None

    async def find_hosts(self, search: str | None = None) -> list[Host]:
        sql, params = "SELECT * FROM hosts", ()
        if search:
            pattern = like(search)
            sql += (" WHERE name LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\' "
                    "OR username LIKE ? ESCAPE '\\' OR os_name LIKE ? ESCAPE '\\'")
            params = (pattern,) * 4
        return [_host(r) for r in await self._rows(sql + " ORDER BY name", params)]

    async def remove_host(self, name: str) -> int:
        host = await self.require_host(name)
        async with self._transaction() as db:
            (count,) = await (await db.execute(
                "SELECT COUNT(*) FROM scans WHERE host_id = ?", (host.id,))).fetchone()
            await db.execute("DELETE FROM jobs WHERE host_id = ?", (host.id,))
            await db.execute("DELETE FROM hosts WHERE id = ?", (host.id,))
        return count

    async def files_in_use(self, paths: list[str]) -> set[str]:
        used: set[str] = set()
        for start in range(0, len(paths), 500):
            chunk = paths[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = await self._rows(
                f"SELECT arf_path AS p FROM scans WHERE arf_path IN ({marks}) "
                f"UNION SELECT tailoring_file FROM hosts WHERE tailoring_file IN ({marks})", chunk + chunk)
            used.update(r["p"] for r in rows)
        return used

    async def evidence_scans(self) -> list[tuple[str, int, str, str, str]]:
        rows = await self._rows("SELECT id, host_id, profile_id, created_at, arf_path FROM scans "
                                "WHERE arf_path IS NOT NULL ORDER BY created_at DESC, id DESC")
        return [tuple(r) for r in rows]

    async def forget_evidence(self, scan_ids: list[str]) -> None:
        await self._write([("UPDATE scans SET arf_path = NULL WHERE id = ?", [(i,) for i in scan_ids])])

    # ------------------------------------------------------------------ content and rule texts

    async def has_rules(self, content_id: str) -> bool:
        return bool(await self._rows("SELECT 1 FROM rules WHERE content_id = ? LIMIT 1", (content_id,)))

    async def save_content(
        self, content_id: str, file_name: str, benchmark_id: str | None,
        version: str | None, rules: Iterable[RuleInfo] = (), derived_from: str | None = None,
    ) -> None:
        rows = [(content_id, r.rule_id, r.title, r.severity, r.description, r.rationale,
                 r.fixtext, r.fix_script) for r in rules]
        await self._write([
            ("INSERT INTO contents (id, file_name, benchmark_id, version, added_at, derived_from) "
             "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
             (content_id, file_name, benchmark_id, version, now_iso(), derived_from)),
            ("INSERT OR REPLACE INTO rules (content_id, rule_id, title, severity, description, "
             "rationale, fixtext, fix_script) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows),
        ])

    async def rule_infos(self, content_id: str, rule_ids: list[str] | None = None) -> dict[str, RuleInfo]:
        sql, params = "SELECT * FROM rules WHERE content_id = ?", [content_id]
        if rule_ids is not None:
            sql += f" AND rule_id IN ({', '.join('?' * len(rule_ids))})"
            params += list(rule_ids)
        return {
            r["rule_id"]: RuleInfo(r["rule_id"], r["title"] or "", r["severity"] or "unknown",
                                   r["description"] or "", r["rationale"] or "",
                                   r["fixtext"] or "", r["fix_script"] or "")
            for r in await self._rows(sql, params)
        }

    async def get_content(self, content_id: str) -> dict | None:
        rows = await self._rows(
            "SELECT id, file_name, benchmark_id, version, added_at FROM contents WHERE id = ?", (content_id,))
        return dict(rows[0]) if rows else None

    # ------------------------------------------------------------------ scans

    async def get_scan(self, scan_id: str) -> Scan:
        rows = await self._by_prefix(_SCAN_SELECT, "s.id", scan_id, "scan", "scans list")
        return _scan(rows[0])

    async def _by_prefix(self, select: str, column: str, given: str, what: str, listing: str) -> list:
        given = given.strip().lower()
        if len(given) < 8:
            raise InvalidInput(f"{what} id {given!r} is too short: give at least its first 8 characters")
        rows = await self._rows(f"{select} WHERE {column} >= ? AND {column} < ? LIMIT 2",
                                (given, given + "\uffff"))
        if not rows:
            raise NotFound(f"no {what} {given!r}; see `compliance-tui {listing}`")
        if len(rows) > 1:
            raise InvalidInput(f"{what} id {given!r} is ambiguous; give more characters")
        return rows

    async def find_scans(
        self, host: str | None = None, status: str | None = None, id_prefix: str | None = None,
        since: str | None = None, until: str | None = None, limit: int | None = None,
    ) -> list[Scan]:
        where, params = [], []
        for clause, value in (("h.name = ?", host), ("s.status = ?", status),
                              ("s.created_at >= ?", since), ("s.created_at < ?", until)):
            if value is not None:
                where.append(clause)
                params.append(value)
        if id_prefix:
            where.append("s.id LIKE ? ESCAPE '\\'")
            params.append(like(id_prefix.strip().lower())[1:])
        sql = _SCAN_SELECT + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY s.created_at DESC, s.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_scan(r) for r in await self._rows(sql, params)]

    async def rule_results(
        self, scan_id: str, result: str | None = None, order: str = "rule",
        search: str | None = None, severity: str | None = None,
    ) -> list[RuleResult]:
        sql = (
            "SELECT r.rule_id, r.result, COALESCE(NULLIF(i.severity, 'unknown'), r.severity) AS severity, "
            "COALESCE(i.title, '') AS title, r.seconds FROM rule_results r JOIN scans s ON s.id = r.scan_id "
            "LEFT JOIN rules i ON i.content_id = s.content_id AND i.rule_id = r.rule_id "
            "WHERE r.scan_id = ?"
        )
        params: list = [scan_id]
        if result:
            sql += " AND r.result = ?"
            params.append(result)
        if severity:
            sql += " AND COALESCE(NULLIF(i.severity, 'unknown'), r.severity) = ?"
            params.append(severity)
        if search:
            sql += " AND (r.rule_id LIKE ? ESCAPE '\\' OR i.title LIKE ? ESCAPE '\\')"
            params += [like(search)] * 2
        sql += f" ORDER BY {RESULT_ORDER[order]}"
        rows = await self._rows(sql, params)
        return [RuleResult(r["rule_id"], r["result"], r["severity"] or "unknown", r["title"], r["seconds"])
                for r in rows]

    async def latest_completed_scans(self) -> dict[str, Scan]:
        # one seek per host on scans_host_completed, not a subquery per scan
        rows = await self._rows(
            f"{_SCAN_SELECT} WHERE s.id IN (SELECT (SELECT x.id FROM scans x WHERE x.host_id = hh.id "
            "AND x.status = 'completed' ORDER BY x.created_at DESC, x.id DESC LIMIT 1) FROM hosts hh)"
        )
        return {r["host_name"]: _scan(r) for r in rows}

    async def scan_status_counts(self, host: str | None = None) -> dict[str, int]:
        sql = "SELECT s.status, COUNT(*) AS n FROM scans s JOIN hosts h ON h.id = s.host_id"
        params: tuple = ()
        if host is not None:
            sql += " WHERE h.name = ?"
            params = (host,)
        return {r["status"]: r["n"] for r in await self._rows(sql + " GROUP BY s.status", params)}

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
        await self._write([
            ("UPDATE scans SET profile_id = ?, content_id = ?, progress_total = ?, tailoring_file = ?, "
             "tailoring_sha256 = ?, base_profile_id = ?, updated_at = ? WHERE id = ?",
             (profile_id, content_id, progress_total, name, digest, base, now, scan_id)),
            ("UPDATE jobs SET progress_total = ?, updated_at = ? WHERE scan_id = ? AND status = 'running'",
             (progress_total, now, scan_id)),
        ])

    async def complete_scan(
        self, scan_id: str, results: Iterable[RuleResult], counts: dict[str, int],
        score: float | None, notice: str | None, arf_path: str | None,
        started_at: str | None = None, finished_at: str | None = None,
        job_id: str | None = None, output: str | None = None,
    ) -> None:
        rows = [(scan_id, r.rule_id, r.result, r.severity, r.seconds) for r in results if r.result != "notselected"]
        count_sql = ", ".join(f"{col} = ?" for col in COUNT_COLUMNS.values())
        now = now_iso()
        finished = finished_at or now
        statements = [
            (RESULT_INSERT, rows),
            (f"UPDATE scans SET status = 'completed', {count_sql}, score = ?, notice = ?, "
             "arf_path = ?, progress_done = ?, finished_at = ?, updated_at = ?, "
             "started_at = COALESCE(?, started_at, ?) WHERE id = ?",
             tuple(counts.get(r, 0) for r in COUNT_COLUMNS)
             + (score, notice, arf_path, len(rows), finished, now, started_at, finished, scan_id)),
        ]
        if job_id:
            statements.append((
                "UPDATE jobs SET status = 'completed', started_at = COALESCE(?, started_at), finished_at = ?, "
                "updated_at = ?, progress_done = ?, output = COALESCE(?, output), current = NULL, "
                "lease_until = NULL WHERE id = ?", (started_at, finished, now, len(rows), output, job_id)))
        await self._write(statements)

    async def add_imported_scans(self, imported: list[tuple[Scan, list[RuleResult]]],
                                 new_host: Host | None = None) -> Host | None:
        columns = (
            "id", "host_id", "profile", "profile_id", "content_id", "status", "progress_done",
            "progress_total", "score", "notice", "arf_path", "created_at", "started_at",
            "finished_at", "updated_at", "origin", "source_file", "source_sha256", "result_key", "target",
        ) + tuple(COUNT_COLUMNS.values())
        insert = f"INSERT INTO scans ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        host_columns = _HOST_FIELDS + ("created_at",)
        try:
            async with self._transaction() as db:
                host = None
                if new_host is not None:
                    new_host.created_at = now_iso()
                    await db.execute(
                        f"INSERT INTO hosts ({', '.join(host_columns)}) VALUES "
                        f"({', '.join('?' * len(host_columns))}) ON CONFLICT(name) DO NOTHING",
                        tuple(_host_value(new_host, c) for c in host_columns))
                    row = await (await db.execute("SELECT * FROM hosts WHERE name = ?", (new_host.name,))).fetchone()
                    host = _host(row)
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
                await db.executemany(insert, scan_rows)  # one statement each: a year of scans in seconds
                if result_rows:
                    await db.executemany(RESULT_INSERT, result_rows)
        except sqlite3.IntegrityError as exc:
            if "result_key" not in str(exc) and "scans_imported_once" not in str(exc):
                raise
            raise InvalidInput("this TestResult is already imported for the host (another import "
                               "stored it at the same time)") from None
        return host

    async def find_imported(self, host_id: int, result_key: str) -> Scan | None:
        rows = await self._rows(f"{_SCAN_SELECT} WHERE s.host_id = ? AND s.result_key = ?", (host_id, result_key))
        return _scan(rows[0]) if rows else None


def _host_value(host: Host, column: str):
    return json.dumps(list(host.tags)) if column == "tags" else getattr(host, column)


def _host(row: aiosqlite.Row) -> Host:
    fields = {k: row[k] for k in _HOST_FIELDS} | {"tags": tuple(json.loads(row["tags"] or "[]"))}
    return Host(**fields, id=row["id"], created_at=row["created_at"])


def _scan(row: aiosqlite.Row) -> Scan:
    counts = {r: row[col] for r, col in COUNT_COLUMNS.items() if row[col] is not None}
    return Scan(
        id=row["id"], host_id=row["host_id"], host_name=row["host_name"],
        profile=row["profile"], profile_id=row["profile_id"], status=ScanStatus(row["status"]),
        content_id=row["content_id"], content_file=row["content_file"],
        content_version=row["content_version"], content_derived_from=row["content_derived_from"],
        progress_done=row["progress_done"], progress_total=row["progress_total"],
        counts=counts, score=row["score"], error_message=row["error_message"],
        notice=row["notice"], created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], arf_path=row["arf_path"], origin=row["origin"],
        tailoring_file=row["tailoring_file"], tailoring_sha256=row["tailoring_sha256"],
        base_profile_id=row["base_profile_id"],
        source_file=row["source_file"], source_sha256=row["source_sha256"],
        result_key=row["result_key"], target=row["target"],
    )
