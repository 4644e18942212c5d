"""Reads across many scans (FleetStore in base.py), for both backends: the Dashboard's trend
and the exceptions view's failures.

They return plain tuples, not Scan objects: the Dashboard reads thousands of scores at a time
and building a dataclass per scan would cost more than the SQL.
"""

from __future__ import annotations

from core.domain.models import SCORED_BAD
from core.store.base import FleetStore, ScorePoint
from core.store.db import Db, chunks

_BAD = "(" + ", ".join(f"'{r}'" for r in sorted(SCORED_BAD)) + ")"


class Fleet(FleetStore):
    db: Db

    async def failing_results(self, scan_ids: list[str], rule_ids: list[str]) -> list[tuple[str, str, str]]:
        if not scan_ids or not rule_ids:
            return []
        found = []
        # exceptions are few: more rules than one list holds is not a use
        rules, rule_params = self.db.dialect.among("rule_id", list(rule_ids)[:self.db.dialect.max_list])
        for part in chunks(self.db, scan_ids):
            scans, scan_params = self.db.dialect.among("scan_id", part)
            found += await self.db.fetch_tuples(
                f"SELECT scan_id, rule_id, result FROM rule_results WHERE {scans} AND {rules} AND result IN {_BAD}",
                [*scan_params, *rule_params])
        return found

    async def failing_results_since(self, since: str | None, rule_ids: list[str]) -> list[tuple[str, str, str]]:
        if not rule_ids:
            return []
        rules, params = self.db.dialect.among("r.rule_id", list(rule_ids)[:self.db.dialect.max_list])
        return await self.db.fetch_tuples(
            "SELECT r.scan_id, r.rule_id, r.result FROM scans s JOIN rule_results r ON r.scan_id = s.id "
            f"WHERE s.status = 'completed' AND s.created_at >= ? AND {rules} AND r.result IN {_BAD}",
            [since or "", *params])

    async def score_points(self, since: str | None = None, host: str | None = None) -> list[ScorePoint]:
        sql = ("SELECT h.name, s.id, s.created_at, s.score, COALESCE(s.n_pass, 0) + COALESCE(s.n_fixed, 0), "
               "COALESCE(s.n_fail, 0) + COALESCE(s.n_error, 0) + COALESCE(s.n_unknown, 0) "
               f"FROM scans s{self.db.dialect.index_hint('scans_trend')} JOIN hosts h ON h.id = s.host_id "
               "WHERE s.status = 'completed' AND s.created_at >= ?")
        params: list[str] = [since or ""]
        if host is not None:
            sql += " AND h.name = ?"
            params.append(host)
        # the order of the covering index scans_trend: no table reads, no sort
        return [ScorePoint(*r) for r in await self.db.fetch_tuples(sql + " ORDER BY s.created_at", params)]

    async def results_of(self, scan_ids: list[str], result: str = "fail") -> list[tuple[str, str]]:
        found = []
        for part in chunks(self.db, scan_ids):
            scans, params = self.db.dialect.among("scan_id", part)
            found += await self.db.fetch_tuples(
                f"SELECT scan_id, rule_id FROM rule_results WHERE {scans} AND result = ?", [*params, result])
        return found
