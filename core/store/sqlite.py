"""The store: every host, scan, rule result and rule text, behind one narrow async API.

All SQL lives here so that a PostgreSQL backend can replace this module later.
One aiosqlite connection per Store; a lock makes each method one transaction,
because concurrent scans share the connection.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Iterable

import aiosqlite

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import RESULT_VALUES, Host, RuleInfo, RuleResult, Scan, ScanStatus
from core.domain.timeutil import now_iso
from core.store.sqlite_migrations import MIGRATIONS

COUNT_COLUMNS = {r: f"n_{r}" for r in RESULT_VALUES}
_HOST_FIELDS = (
    "name", "address", "port", "username", "identity_file", "known_hosts",
    "sudo_password_env", "transport", "os_id", "os_version", "os_name", "os_family", "status",
    "tailoring_file",
)
_SCAN_SELECT = (
    "SELECT s.*, h.name AS host_name, c.file_name AS content_file, c.version AS content_version, "
    "c.derived_from AS content_derived_from "
    "FROM scans s JOIN hosts h ON h.id = s.host_id LEFT JOIN contents c ON c.id = s.content_id"
)
RESULT_ORDER = {
    "rule": "r.rule_id",
    "severity": "CASE COALESCE(i.severity, r.severity) WHEN 'high' THEN 0 WHEN 'medium' THEN 1 "
    "WHEN 'low' THEN 2 ELSE 3 END, r.rule_id",
    "result": "CASE r.result WHEN 'fail' THEN 0 WHEN 'error' THEN 1 WHEN 'unknown' THEN 2 "
    "WHEN 'pass' THEN 3 ELSE 4 END, r.rule_id",
}


class Store:
    def __init__(self, db: aiosqlite.Connection):
        self._db = db
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> "Store":
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=10000")
        store = cls(db)
        try:
            await store._migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        async with self._lock:
            (version,) = await (await self._db.execute("PRAGMA user_version")).fetchone()
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                await self._db.execute("BEGIN IMMEDIATE")
                try:
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

    async def _write(self, statements: Iterable[tuple[str, tuple | list]]) -> None:
        """Run statements as one transaction."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    if isinstance(params, list):  # many rows, possibly none
                        if params:
                            await self._db.executemany(sql, params)
                    else:
                        await self._db.execute(sql, params)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise

    async def _rows(self, sql: str, params: tuple = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            return list(await self._db.execute_fetchall(sql, params))

    async def get_meta(self, key: str) -> str | None:
        rows = await self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._write([("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))])

    # hosts ---------------------------------------------------------------

    async def add_host(self, host: Host) -> Host:
        if await self.get_host(host.name):
            raise InvalidInput(f"host {host.name!r} exists already; choose another name")
        host.created_at = now_iso()
        columns = _HOST_FIELDS + ("created_at",)
        values = tuple(getattr(host, c) for c in columns)
        sql = f"INSERT INTO hosts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        await self._write([(sql, values)])
        return await self.require_host(host.name)

    async def update_host(self, host: Host) -> None:
        assignments = ", ".join(f"{c} = ?" for c in _HOST_FIELDS)
        values = tuple(getattr(host, c) for c in _HOST_FIELDS) + (host.id,)
        await self._write([(f"UPDATE hosts SET {assignments} WHERE id = ?", values)])

    async def get_host(self, name: str) -> Host | None:
        rows = await self._rows("SELECT * FROM hosts WHERE name = ?", (name,))
        return _host(rows[0]) if rows else None

    async def require_host(self, name: str) -> Host:
        host = await self.get_host(name)
        if host is None:
            raise NotFound(f"no host named {name!r}; see `compliance-tui hosts list`")
        return host

    async def list_hosts(self) -> list[Host]:
        return [_host(r) for r in await self._rows("SELECT * FROM hosts ORDER BY name")]

    async def remove_host(self, name: str) -> int:
        """Remove a host with its scans; returns how many scans went with it."""
        host = await self.require_host(name)
        (row,) = await self._rows("SELECT COUNT(*) FROM scans WHERE host_id = ?", (host.id,))
        await self._write([("DELETE FROM hosts WHERE id = ?", (host.id,))])
        return row[0]

    # content and rule texts ---------------------------------------------

    async def has_rules(self, content_id: str) -> bool:
        rows = await self._rows("SELECT 1 FROM rules WHERE content_id = ? LIMIT 1", (content_id,))
        return bool(rows)

    async def save_content(
        self, content_id: str, file_name: str, benchmark_id: str | None,
        version: str | None, rules: Iterable[RuleInfo] = (), derived_from: str | None = None,
    ) -> None:
        """Record a datastream version and its rule texts, once per content id."""
        rows = [
            (content_id, r.rule_id, r.title, r.severity, r.description, r.rationale,
             r.fixtext, r.fix_script)
            for r in rules
        ]
        statements = [(
            "INSERT INTO contents (id, file_name, benchmark_id, version, added_at, derived_from) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
            (content_id, file_name, benchmark_id, version, now_iso(), derived_from),
        )]
        if rows:
            statements.append((
                "INSERT OR REPLACE INTO rules (content_id, rule_id, title, severity, description, "
                "rationale, fixtext, fix_script) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            ))
        await self._write(statements)

    async def rule_info(self, content_id: str, rule_id: str) -> RuleInfo | None:
        found = await self.rule_infos(content_id, [rule_id])
        return found.get(rule_id)

    async def rule_infos(self, content_id: str, rule_ids: list[str] | None = None) -> dict[str, RuleInfo]:
        """Rule texts of one content version: all of them, or the given rule ids."""
        sql, params = "SELECT * FROM rules WHERE content_id = ?", [content_id]
        if rule_ids is not None:
            sql += f" AND rule_id IN ({', '.join('?' * len(rule_ids))})"
            params += list(rule_ids)
        return {
            r["rule_id"]: RuleInfo(r["rule_id"], r["title"] or "", r["severity"] or "unknown",
                                   r["description"] or "", r["rationale"] or "",
                                   r["fixtext"] or "", r["fix_script"] or "")
            for r in await self._rows(sql, tuple(params))
        }

    # scans ----------------------------------------------------------------

    async def create_scan(self, scan: Scan, runner: str) -> Scan:
        scan.created_at = scan.created_at or now_iso()
        await self._write([(
            "INSERT INTO scans (id, host_id, profile, profile_id, content_id, status, "
            "progress_total, created_at, runner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (scan.id, scan.host_id, scan.profile, scan.profile_id, scan.content_id,
             scan.status.value, scan.progress_total, scan.created_at, runner),
        )])
        return await self.get_scan(scan.id)

    async def mark_running(self, scan_id: str) -> None:
        await self._write([(
            "UPDATE scans SET status = 'running', started_at = ?, updated_at = ? WHERE id = ?",
            (now_iso(), now_iso(), scan_id),
        )])

    async def assign_content(
        self, scan_id: str, profile_id: str, content_id: str, progress_total: int | None,
        tailoring: tuple[str, str, str] | None = None,
    ) -> None:
        """Record which datastream and profile a scan runs, once they are resolved.

        tailoring: (file name, sha256, base profile id) when a tailored profile runs.
        """
        name, digest, base = tailoring or (None, None, None)
        await self._write([(
            "UPDATE scans SET profile_id = ?, content_id = ?, progress_total = ?, tailoring_file = ?, "
            "tailoring_sha256 = ?, base_profile_id = ?, updated_at = ? WHERE id = ?",
            (profile_id, content_id, progress_total, name, digest, base, now_iso(), scan_id),
        )])

    async def set_progress(self, scan_id: str, done: int) -> None:
        await self._write([(
            "UPDATE scans SET progress_done = ?, updated_at = ? WHERE id = ? AND status = 'running'",
            (done, now_iso(), scan_id),
        )])

    async def complete_scan(
        self, scan_id: str, results: Iterable[RuleResult], counts: dict[str, int],
        score: float | None, notice: str | None, arf_path: str | None,
        started_at: str | None = None, finished_at: str | None = None,
    ) -> None:
        """Store every rule result and the totals in one transaction.

        Times default to now; an imported scan passes the times its file records.
        """
        rows = [(scan_id, r.rule_id, r.result, r.severity) for r in results if r.result != "notselected"]
        count_sql = ", ".join(f"{col} = ?" for col in COUNT_COLUMNS.values())
        now = finished_at or now_iso()
        await self._write([
            ("INSERT INTO rule_results (scan_id, rule_id, result, severity) VALUES (?, ?, ?, ?)", rows),
            (
                f"UPDATE scans SET status = 'completed', {count_sql}, score = ?, notice = ?, "
                "arf_path = ?, progress_done = ?, finished_at = ?, updated_at = ?, "
                "started_at = COALESCE(?, started_at, ?) WHERE id = ?",
                tuple(counts.get(r, 0) for r in COUNT_COLUMNS)
                + (score, notice, arf_path, len(rows), now, now_iso(), started_at, now, scan_id),
            ),
        ])

    async def add_imported_scans(self, imported: list[tuple[Scan, list[RuleResult]]]) -> None:
        """Completed scans from results files, all in one transaction: nothing half-stored."""
        columns = (
            "id", "host_id", "profile", "profile_id", "content_id", "status", "progress_done",
            "progress_total", "score", "notice", "arf_path", "created_at", "started_at",
            "finished_at", "updated_at", "origin", "source_file", "source_sha256", "result_key", "target",
        ) + tuple(COUNT_COLUMNS.values())
        statements = []
        for scan, results in imported:
            rows = [(scan.id, r.rule_id, r.result, r.severity) for r in results if r.result != "notselected"]
            values = (
                scan.id, scan.host_id, scan.profile, scan.profile_id, scan.content_id, "completed",
                len(rows), len(rows), scan.score, scan.notice, scan.arf_path, scan.created_at,
                scan.started_at, scan.finished_at, now_iso(), "import", scan.source_file,
                scan.source_sha256, scan.result_key, scan.target,
            ) + tuple(scan.counts.get(r, 0) for r in COUNT_COLUMNS)
            statements.append((
                f"INSERT INTO scans ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values))
            statements.append((
                "INSERT INTO rule_results (scan_id, rule_id, result, severity) VALUES (?, ?, ?, ?)", rows))
        await self._write(statements)

    async def find_imported(self, host_id: int, result_key: str) -> Scan | None:
        rows = await self._rows(
            f"{_SCAN_SELECT} WHERE s.host_id = ? AND s.result_key = ?", (host_id, result_key))
        return _scan(rows[0]) if rows else None

    async def fail_scan(self, scan_id: str, message: str) -> None:
        now = now_iso()
        await self._write([(
            "UPDATE scans SET status = 'failed', error_message = ?, finished_at = ?, updated_at = ? "
            "WHERE id = ? AND status IN ('pending', 'running')",
            (message, now, now, scan_id),
        )])

    async def unfinished_scans(self) -> list[tuple[str, str | None]]:
        """(scan id, runner) of every pending or running scan."""
        rows = await self._rows("SELECT id, runner FROM scans WHERE status IN ('pending', 'running')")
        return [(r["id"], r["runner"]) for r in rows]

    async def get_scan(self, scan_id: str) -> Scan:
        """A scan by its full UUID or a unique prefix of at least 8 characters."""
        scan_id = scan_id.strip().lower()
        if len(scan_id) < 8:
            raise InvalidInput(f"scan id {scan_id!r} is too short: give at least its first 8 characters")
        rows = await self._rows(
            f"{_SCAN_SELECT} WHERE s.id >= ? AND s.id < ? LIMIT 2", (scan_id, scan_id + "\uffff")
        )
        if not rows:
            raise NotFound(f"no scan {scan_id!r}; see `compliance-tui scans list`")
        if len(rows) > 1:
            raise InvalidInput(f"scan id {scan_id!r} is ambiguous; give more characters")
        return _scan(rows[0])

    async def list_scans(
        self, host: str | None = None, status: str | None = None,
        since: str | None = None, until: str | None = None, limit: int | None = None,
    ) -> list[Scan]:
        where, params = [], []
        for clause, value in (
            ("h.name = ?", host), ("s.status = ?", status),
            ("s.created_at >= ?", since), ("s.created_at < ?", until),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = _SCAN_SELECT + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY s.created_at DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_scan(r) for r in await self._rows(sql, tuple(params))]

    async def rule_results(
        self, scan_id: str, result: str | None = None, order: str = "rule",
        search: str | None = None, severity: str | None = None,
    ) -> list[RuleResult]:
        """One scan's results with titles and severities from its content's rule texts.

        search matches rule id or title, case-insensitively.
        """
        sql = (
            "SELECT r.rule_id, r.result, COALESCE(NULLIF(i.severity, 'unknown'), r.severity) AS severity, "
            "COALESCE(i.title, '') AS title FROM rule_results r JOIN scans s ON s.id = r.scan_id "
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
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern, pattern]
        sql += f" ORDER BY {RESULT_ORDER[order]}"
        rows = await self._rows(sql, tuple(params))
        return [RuleResult(r["rule_id"], r["result"], r["severity"] or "unknown", r["title"]) for r in rows]

    async def get_content(self, content_id: str) -> dict | None:
        """One content version: id, file_name, benchmark_id, version (SSG release), added_at."""
        rows = await self._rows(
            "SELECT id, file_name, benchmark_id, version, added_at FROM contents WHERE id = ?",
            (content_id,),
        )
        return dict(rows[0]) if rows else None

    # dashboard queries (issue 3) -----------------------------------------------

    @staticmethod
    def _like(text: str) -> str:
        return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    async def find_hosts(self, search: str | None = None) -> list[Host]:
        """Hosts whose name, address, user or OS contains search (case-insensitive), by name."""
        sql, params = "SELECT * FROM hosts", ()
        if search:
            pattern = self._like(search)
            sql += (" WHERE name LIKE ? ESCAPE '\\' OR address LIKE ? ESCAPE '\\' "
                    "OR username LIKE ? ESCAPE '\\' OR os_name LIKE ? ESCAPE '\\'")
            params = (pattern,) * 4
        return [_host(r) for r in await self._rows(sql + " ORDER BY name", params)]

    async def latest_completed_scans(self) -> dict[str, Scan]:
        """Host name -> that host's most recent completed scan (by creation time)."""
        rows = await self._rows(
            f"{_SCAN_SELECT} WHERE s.status = 'completed' AND s.id = (SELECT x.id FROM scans x "
            "WHERE x.host_id = s.host_id AND x.status = 'completed' "
            "ORDER BY x.created_at DESC, x.id DESC LIMIT 1)"
        )
        return {r["host_name"]: _scan(r) for r in rows}

    async def scan_status_counts(self, host: str | None = None) -> dict[str, int]:
        """Status -> number of scans, of one host or of all."""
        sql = "SELECT s.status, COUNT(*) AS n FROM scans s JOIN hosts h ON h.id = s.host_id"
        params: tuple = ()
        if host is not None:
            sql += " WHERE h.name = ?"
            params = (host,)
        rows = await self._rows(sql + " GROUP BY s.status", params)
        return {r["status"]: r["n"] for r in rows}

    async def scan_counts_by_host(self) -> dict[str, int]:
        rows = await self._rows(
            "SELECT h.name, COUNT(s.id) AS n FROM hosts h LEFT JOIN scans s ON s.host_id = h.id "
            "GROUP BY h.id"
        )
        return {r["name"]: r["n"] for r in rows}

    async def find_scans(
        self, host: str | None = None, status: str | None = None,
        id_prefix: str | None = None, limit: int | None = None,
    ) -> list[Scan]:
        """Scans newest first, filtered by host, status and the start of the scan id."""
        where, params = [], []
        if host is not None:
            where.append("h.name = ?")
            params.append(host)
        if status is not None:
            where.append("s.status = ?")
            params.append(status)
        if id_prefix:
            where.append("s.id LIKE ? ESCAPE '\\'")
            params.append(self._like(id_prefix.strip().lower())[1:])
        sql = _SCAN_SELECT + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY s.created_at DESC, s.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_scan(r) for r in await self._rows(sql, tuple(params))]


def _host(row: aiosqlite.Row) -> Host:
    return Host(**{k: row[k] for k in _HOST_FIELDS}, id=row["id"], created_at=row["created_at"])


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
