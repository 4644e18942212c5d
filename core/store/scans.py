"""Scans and their rule results (ScanStore in base.py), for both backends."""

from __future__ import annotations

from typing import Any, Iterable

from core.domain.errors import InvalidInput
from core.domain.models import RESULT_VALUES, Host, RuleResult, Scan, ScanStatus, Seal
from core.domain.timeutil import now_iso
from core.store.base import ScanStore
from core.store.db import Db, Row, by_prefix, like, marks
from core.store.hosts import insert_host

COUNT_COLUMNS = {r: f"n_{r}" for r in RESULT_VALUES}
SCAN_SELECT = (
    "SELECT s.*, h.name AS host_name, c.file_name AS content_file, c.version AS content_version, "
    "c.derived_from AS content_derived_from "
    "FROM scans s JOIN hosts h ON h.id = s.host_id LEFT JOIN contents c ON c.id = s.content_id"
)
RESULT_INSERT = "INSERT INTO rule_results (scan_id, rule_id, result, severity, seconds) VALUES (?, ?, ?, ?, ?)"
RESULT_ORDER = {
    "rule": "r.rule_id",
    "severity": "CASE COALESCE(i.severity, r.severity) WHEN 'high' THEN 0 WHEN 'medium' THEN 1 "
    "WHEN 'low' THEN 2 ELSE 3 END, r.rule_id",
    "result": "CASE r.result WHEN 'fail' THEN 0 WHEN 'error' THEN 1 WHEN 'unknown' THEN 2 "
    "WHEN 'pass' THEN 3 ELSE 4 END, r.rule_id",
    "time": "r.seconds DESC NULLS LAST, r.rule_id",  # the slowest first
}
_IMPORTED = (
    "id", "host_id", "profile", "profile_id", "content_id", "status", "progress_done",
    "progress_total", "score", "notice", "arf_path", "created_at", "started_at",
    "finished_at", "updated_at", "origin", "source_file", "source_sha256", "result_key", "target",
    "signed_record", "signature", "signing_key",
) + tuple(COUNT_COLUMNS.values())


def scan_of(row: Row | dict[str, Any]) -> Scan:
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
        result_key=row["result_key"], target=row["target"], seal=seal_of(row),
    )


def seal_of(row: Row | dict[str, Any]) -> Seal | None:
    if row["signed_record"] is None:
        return None
    return Seal(row["signed_record"], row["signature"], row["signing_key"])


def seal_columns(seal: Seal | None) -> tuple[str | None, str | None, str | None]:
    return (seal.record, seal.signature, seal.key) if seal else (None, None, None)


def scans_of(rows: list[Row]) -> list[Scan]:
    """scan_of of many rows, each as a dict: a column's place is looked up once, not on every row
    (an sqlite3.Row finds a name by comparing it with its columns', some 40 times per scan)."""
    if not rows:
        return []
    place: dict[str, int] = {}
    for i, name in enumerate(rows[0].keys()):
        place.setdefault(name, i)  # the first column of a name, as r[name] gives
    found = []
    for row in rows:
        values = tuple(row)
        found.append(scan_of({name: values[i] for name, i in place.items()}))
    return found


def result_rows(scan_id: str, results: Iterable[RuleResult]) -> list[tuple[str, str, str, str, float | None]]:
    """What RESULT_INSERT stores of a scan's results: every rule the profile selected."""
    return [(scan_id, r.rule_id, r.result, r.severity, r.seconds) for r in results if r.result != "notselected"]


class Scans(ScanStore):
    db: Db

    async def get_scan(self, scan_id: str) -> Scan:
        return scan_of(await by_prefix(self.db, SCAN_SELECT, "s.id", scan_id, "scan", "scans list"))

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
        if id_prefix:  # ids are lower case: LIKE on both (on PostgreSQL an index range of the "C" key)
            where.append("s.id LIKE ? ESCAPE '\\'")
            params.append(like(id_prefix.strip().lower())[1:])
        sql = SCAN_SELECT + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY s.created_at DESC, s.id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return scans_of(await self.db.fetch(sql, params))

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
        params: list[str] = [scan_id]
        if result:
            sql += " AND r.result = ?"
            params.append(result)
        if severity:
            sql += " AND COALESCE(NULLIF(i.severity, 'unknown'), r.severity) = ?"
            params.append(severity)
        if search:
            match = f"{self.db.dialect.like} ? ESCAPE '\\'"
            sql += f" AND (r.rule_id {match} OR i.title {match})"
            params += [like(search)] * 2
        rows = await self.db.fetch(sql + f" ORDER BY {RESULT_ORDER[order]}", params)
        return [RuleResult(r["rule_id"], r["result"], r["severity"] or "unknown", r["title"], r["seconds"])
                for r in rows]

    async def latest_completed_scans(self) -> dict[str, Scan]:
        # one seek per host on scans_host_completed, not a subquery per scan
        rows = await self.db.fetch(
            f"{SCAN_SELECT} WHERE s.id IN (SELECT (SELECT x.id FROM scans x WHERE x.host_id = hh.id "
            "AND x.status = 'completed' ORDER BY x.created_at DESC, x.id DESC LIMIT 1) FROM hosts hh)")
        return {r["host_name"]: scan_of(r) for r in rows}

    async def scan_status_counts(self, host: str | None = None) -> dict[str, int]:
        sql = "SELECT s.status, COUNT(*) AS n FROM scans s JOIN hosts h ON h.id = s.host_id"
        params: tuple[str, ...] = ()
        if host is not None:
            sql, params = sql + " WHERE h.name = ?", (host,)
        return {r["status"]: r["n"] for r in await self.db.fetch(sql + " GROUP BY s.status", params)}

    async def scan_counts_by_host(self) -> dict[str, int]:
        rows = await self.db.fetch(
            "SELECT h.name, COUNT(s.id) AS n FROM hosts h LEFT JOIN scans s ON s.host_id = h.id GROUP BY h.id")
        return {r["name"]: r["n"] for r in rows}

    async def assign_content(
        self, scan_id: str, profile_id: str, content_id: str, progress_total: int | None,
        tailoring: tuple[str, str, str] | None = None,
    ) -> None:
        name, digest, base = tailoring or (None, None, None)
        now = now_iso()
        async with self.db.transaction() as db:
            await db.execute(
                "UPDATE scans SET profile_id = ?, content_id = ?, progress_total = ?, tailoring_file = ?, "
                "tailoring_sha256 = ?, base_profile_id = ?, updated_at = ? WHERE id = ?",
                (profile_id, content_id, progress_total, name, digest, base, now, scan_id))
            await db.execute("UPDATE jobs SET progress_total = ?, updated_at = ? WHERE scan_id = ? "
                             "AND status = 'running'", (progress_total, now, scan_id))

    async def complete_scan(
        self, scan_id: str, results: Iterable[RuleResult], counts: dict[str, int],
        score: float | None, notice: str | None, arf_path: str | None,
        started_at: str | None = None, finished_at: str | None = None,
        job_id: str | None = None, output: str | None = None, seal: Seal | None = None,
    ) -> None:
        rows = result_rows(scan_id, results)
        count_sql = ", ".join(f"{col} = ?" for col in COUNT_COLUMNS.values())
        now = now_iso()
        finished = finished_at or now
        async with self.db.transaction() as db:
            await db.execute_many(RESULT_INSERT, rows)
            await db.execute(
                f"UPDATE scans SET status = 'completed', {count_sql}, score = ?, notice = ?, "
                "arf_path = ?, progress_done = ?, finished_at = ?, updated_at = ?, "
                "started_at = COALESCE(?, started_at, ?), signed_record = ?, signature = ?, signing_key = ? "
                "WHERE id = ?",
                [*(counts.get(r, 0) for r in COUNT_COLUMNS), score, notice, arf_path, len(rows), finished,
                 now, started_at, finished, *seal_columns(seal), scan_id])
            if job_id:
                await db.execute(
                    "UPDATE jobs SET status = 'completed', started_at = COALESCE(?, started_at), finished_at = ?, "
                    "updated_at = ?, progress_done = ?, output = COALESCE(?, output), current = NULL, "
                    "lease_until = NULL WHERE id = ?", (started_at, finished, now, len(rows), output, job_id))

    async def add_imported_scans(self, imported: list[tuple[Scan, list[RuleResult]]],
                                 new_host: Host | None = None) -> Host | None:
        insert = f"INSERT INTO scans ({', '.join(_IMPORTED)}) VALUES ({marks(_IMPORTED)})"
        try:
            async with self.db.transaction() as db:
                host = (await insert_host(db, new_host))[0] if new_host is not None else None
                scan_rows, results = [], []
                for scan, found in imported:
                    if host is not None:
                        scan.host_id = host.id
                    rows = result_rows(scan.id, found)
                    scan_rows.append((
                        scan.id, scan.host_id, scan.profile, scan.profile_id, scan.content_id, "completed",
                        len(rows), len(rows), scan.score, scan.notice, scan.arf_path, scan.created_at,
                        scan.started_at, scan.finished_at, now_iso(), "import", scan.source_file,
                        scan.source_sha256, scan.result_key, scan.target, *seal_columns(scan.seal),
                    ) + tuple(scan.counts.get(r, 0) for r in COUNT_COLUMNS))
                    results += rows
                await db.execute_many(insert, scan_rows)  # one statement each: a year of scans in seconds
                await db.execute_many(RESULT_INSERT, results)
        except Exception as exc:
            if not self.db.unique_violation(exc, "scans_imported_once", "scans.host_id, scans.result_key"):
                raise
            raise InvalidInput("this TestResult is already imported for the host (another import "
                               "stored it at the same time)") from None
        return host

    async def find_imported(self, host_id: int, result_key: str) -> Scan | None:
        row = await self.db.fetch_one(f"{SCAN_SELECT} WHERE s.host_id = ? AND s.result_key = ?",
                                      (host_id, result_key))
        return scan_of(row) if row else None
