"""Documented exceptions and the fleet read queries on SQLite (a part of SqliteStore).

The fleet queries return plain tuples, not Scan objects: the Dashboard reads thousands of
scores at a time and building a dataclass per scan would cost more than the SQL.
"""

from __future__ import annotations

import uuid

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import SCORED_BAD
from core.domain.policy import RuleException
from core.domain.timeutil import now_iso
from core.store.base import ScorePoint

_EXC_SELECT = ("SELECT e.*, h.name AS host_name FROM rule_exceptions e "
               "LEFT JOIN hosts h ON h.id = e.host_id")
_BAD = "(" + ", ".join(f"'{r}'" for r in sorted(SCORED_BAD)) + ")"
CHUNK = 900  # ids per IN (...): well under SQLite's variable limit


async def _tuples(store, sql: str, params: list | tuple = ()) -> list[tuple]:
    """Rows as plain tuples (no sqlite3.Row per row): these reads return thousands."""
    async with store._lock:
        cursor = await store._db.execute(sql, tuple(params))
        cursor._cursor.row_factory = None
        try:
            return await cursor.fetchall()
        finally:
            await cursor.close()


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SqlitePolicy:
    """Mixed into SqliteStore: uses its _transaction, _rows and _by_prefix."""

    # ------------------------------------------------------------------ exceptions

    async def add_exception(self, exc: RuleException) -> RuleException:
        exc_id, now = exc.id or str(uuid.uuid4()), now_iso()  # a given id: tests
        async with self._transaction() as db:
            host_id = None
            if exc.scope == "host":
                row = await (await db.execute("SELECT id FROM hosts WHERE name = ?", (exc.host,))).fetchone()
                if row is None:
                    raise NotFound(f"no host named {exc.host!r}; see `compliance-tui hosts list`")
                host_id = row["id"]
            await db.execute(
                "INSERT INTO rule_exceptions (id, scope, host_id, tag, rule_id, reason, accepted_by, expires, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (exc_id, exc.scope, host_id, exc.tag if exc.scope == "tag" else None, exc.rule_id, exc.reason,
                 exc.accepted_by, exc.expires, now))
        return await self.get_exception(exc_id)

    async def get_exception(self, exc_id: str) -> RuleException:
        rows = await self._by_prefix(_EXC_SELECT, "e.id", exc_id, "exception", "exceptions list")
        return _exception(rows[0])

    async def find_exceptions(self) -> list[RuleException]:
        return [_exception(r) for r in await self._rows(f"{_EXC_SELECT} ORDER BY e.created_at, e.id")]

    async def remove_exception(self, exc_id: str) -> RuleException:
        exc = await self.get_exception(exc_id)
        async with self._transaction() as db:
            await db.execute("DELETE FROM rule_exceptions WHERE id = ?", (exc.id,))
        return exc

    async def failing_results(self, scan_ids: list[str], rule_ids: list[str]) -> list[tuple[str, str, str]]:
        """(scan, rule, result) of these scans where one of these rules did not pass."""
        if not scan_ids or not rule_ids:
            return []
        found = []
        rules = list(rule_ids)[:CHUNK]  # exceptions are few; more than this many is not a use
        marks = ", ".join("?" * len(rules))
        for part in _chunks(list(scan_ids)):
            found += [tuple(r) for r in await self._rows(
                f"SELECT scan_id, rule_id, result FROM rule_results WHERE scan_id IN ({', '.join('?' * len(part))}) "
                f"AND rule_id IN ({marks}) AND result IN {_BAD}", [*part, *rules])]
        return found

    async def failing_results_since(self, since: str | None, rule_ids: list[str]) -> list[tuple[str, str, str]]:
        """failing_results() of every completed scan created since then (a trend's window)."""
        if not rule_ids:
            return []
        rules = list(rule_ids)[:CHUNK]
        return await _tuples(
            self, "SELECT r.scan_id, r.rule_id, r.result FROM scans s JOIN rule_results r ON r.scan_id = s.id "
            f"WHERE s.status = 'completed' AND s.created_at >= ? AND r.rule_id IN ({', '.join('?' * len(rules))}) "
            f"AND r.result IN {_BAD}", [since or "", *rules])

    # ------------------------------------------------------------------ fleet reads

    async def score_points(self, since: str | None = None, host: str | None = None) -> list[ScorePoint]:
        """Completed scans created since then, oldest first, as lean points."""
        sql = ("SELECT h.name, s.id, s.created_at, s.score, COALESCE(s.n_pass, 0) + COALESCE(s.n_fixed, 0), "
               "COALESCE(s.n_fail, 0) + COALESCE(s.n_error, 0) + COALESCE(s.n_unknown, 0) "
               "FROM scans s INDEXED BY scans_trend JOIN hosts h ON h.id = s.host_id "
               "WHERE s.status = 'completed' AND s.created_at >= ?")
        params: list = [since or ""]
        if host is not None:
            sql += " AND h.name = ?"
            params.append(host)
        # the order of the covering index scans_trend: no table reads, no sort
        return [ScorePoint(*r) for r in await _tuples(self, sql + " ORDER BY s.created_at", params)]

    async def results_of(self, scan_ids: list[str], result: str = "fail") -> list[tuple[str, str]]:
        """(scan, rule) of every rule with this result in these scans."""
        found = []
        for part in _chunks(list(scan_ids)):
            found += await _tuples(
                self, f"SELECT scan_id, rule_id FROM rule_results WHERE scan_id IN ({', '.join('?' * len(part))}) "
                "AND result = ?", [*part, result])
        return found

    async def rule_titles(self, rule_ids: list[str]) -> dict[str, tuple[str, str]]:
        """rule id -> (title, severity) from any content version that has it."""
        found: dict[str, tuple[str, str]] = {}
        for part in _chunks(list(rule_ids)):
            for row in await self._rows(
                    "SELECT rule_id, MAX(title) AS title, MAX(severity) AS severity FROM rules "
                    f"WHERE rule_id IN ({', '.join('?' * len(part))}) GROUP BY rule_id", part):
                found[row["rule_id"]] = (row["title"] or "", row["severity"] or "unknown")
        return found


def _exception(row) -> RuleException:
    if row is None:
        raise InvalidInput("no such exception")
    return RuleException(
        scope=row["scope"], rule_id=row["rule_id"], reason=row["reason"], accepted_by=row["accepted_by"],
        expires=row["expires"], host=row["host_name"], tag=row["tag"], id=row["id"], created_at=row["created_at"],
    )
