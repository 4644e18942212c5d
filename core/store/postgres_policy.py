"""Schedules, documented exceptions, the fleet reads and the AI cache on PostgreSQL (a part of
PostgresStore, see postgres.py).

A due slot is taken by one UPDATE of the schedule that moves last_slot forward only while it is
behind: a second process racing for the slot waits for the first one's row lock, then finds
last_slot moved and changes nothing; schedule_runs' primary key backs that up.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from core.domain.errors import NotFound
from core.domain.explanations import AiUsage, Explanation
from core.domain.models import SCORED_BAD, Job
from core.domain.policy import RuleException, Schedule
from core.domain.timeutil import now_iso
from core.store.base import NewScanJob, ScorePoint
from core.store.sqlite_ai import explanation_of
from core.store.sqlite_policy import _exception  # row -> model readers: no SQL in them
from core.store.sqlite_schedules import _schedule

_EXC_SELECT = "SELECT e.*, h.name AS host_name FROM rule_exceptions e LEFT JOIN hosts h ON h.id = e.host_id"
_BAD = sorted(SCORED_BAD)
_COLUMNS = ("target_kind", "targets", "profile", "tailoring", "cadence", "tz", "priority", "paused", "not_before")


class _SlotTaken(Exception):
    """Rolls the transaction back: another process enqueued this slot first."""


def _values(schedule: Schedule) -> tuple:
    return (schedule.target_kind, json.dumps(list(schedule.targets)), schedule.profile, schedule.tailoring,
            schedule.cadence, schedule.tz, schedule.priority, bool(schedule.paused), schedule.not_before)


class PostgresPolicy:
    """Mixed into PostgresStore: uses its _transaction, _rows and _by_prefix."""

    # ------------------------------------------------------------------ schedules

    async def add_schedule(self, schedule: Schedule) -> Schedule:
        schedule_id, now = schedule.id or str(uuid.uuid4()), now_iso()
        values = _values(schedule)[:-1] + (schedule.not_before or now,)
        marks = ", ".join(f"${n}" for n in range(2, len(_COLUMNS) + 2))
        async with self._transaction() as db:
            await db.execute(
                f"INSERT INTO schedules (id, {', '.join(_COLUMNS)}, created_at, updated_at) "
                f"VALUES ($1, {marks}, ${len(_COLUMNS) + 2}, ${len(_COLUMNS) + 2})", schedule_id, *values, now)
        return await self.get_schedule(schedule_id)

    async def update_schedule(self, schedule: Schedule) -> Schedule:
        assignments = ", ".join(f"{c} = ${n}" for n, c in enumerate(_COLUMNS, start=1))
        k = len(_COLUMNS)
        async with self._transaction() as db:
            found = await db.fetchval(
                f"UPDATE schedules SET {assignments}, updated_at = ${k + 1} WHERE id = ${k + 2} RETURNING id",
                *_values(schedule), now_iso(), schedule.id)
            if found is None:
                raise NotFound(f"no schedule {schedule.short_id}; see `compliance-tui schedules list`")
        return await self.get_schedule(schedule.id)

    async def get_schedule(self, schedule_id: str) -> Schedule:
        rows = await self._by_prefix("SELECT * FROM schedules", "id", schedule_id, "schedule", "schedules list")
        return _schedule(rows[0])

    async def find_schedules(self) -> list[Schedule]:
        return [_schedule(r) for r in await self._rows("SELECT * FROM schedules ORDER BY created_at, id")]

    async def remove_schedule(self, schedule_id: str) -> Schedule:
        schedule = await self.get_schedule(schedule_id)
        async with self._transaction() as db:
            await db.execute("DELETE FROM schedules WHERE id = $1", schedule.id)
        return schedule

    async def enqueue_schedule_slot(
        self, schedule_id: str, slot: str, wanted: list[NewScanJob], enqueued_by: str,
        owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job] | None:
        now = now_iso()
        try:
            async with self._transaction() as db:
                moved = await db.fetchval(
                    "UPDATE schedules SET last_slot = $1, last_run_at = $2, last_jobs = $3 WHERE id = $4 "
                    "AND NOT paused AND not_before < $1 AND (last_slot IS NULL OR last_slot < $1) RETURNING id",
                    slot, now, len(wanted), schedule_id)
                if moved is None:
                    raise _SlotTaken
                inserted = await db.fetchval(
                    "INSERT INTO schedule_runs (schedule_id, slot, enqueued_at, enqueued_by, jobs) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING slot",
                    schedule_id, slot, now, enqueued_by, len(wanted))
                if inserted is None:
                    raise _SlotTaken
                tagged = [NewScanJob(w.host, w.profile, w.params | {"schedule": schedule_id, "slot": slot},
                                     w.priority, w.scan_id, w.created_at, w.job_id, w.for_workers) for w in wanted]
                ids = await self._insert_scan_jobs(db, tagged, owner, lease_until)
        except _SlotTaken:
            return None
        return await self._jobs_by_id(ids)

    async def schedule_runs(self, schedule_id: str) -> list[dict]:
        rows = await self._rows("SELECT slot, enqueued_at, enqueued_by, jobs FROM schedule_runs "
                                "WHERE schedule_id = $1 ORDER BY slot", schedule_id)
        return [dict(r) for r in rows]

    async def schedule_outcomes(self) -> dict[str, dict[str, int]]:
        rows = await self._rows(
            "SELECT s.id, j.status, COUNT(*) AS n FROM schedules s JOIN jobs j "
            "ON (j.params::jsonb ->> 'schedule') = s.id AND (j.params::jsonb ->> 'slot') = s.last_slot "
            "WHERE s.last_slot IS NOT NULL GROUP BY s.id, j.status")
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row["id"], {})[row["status"]] = row["n"]
        return found

    # ------------------------------------------------------------------ exceptions

    async def add_exception(self, exc: RuleException) -> RuleException:
        exc_id, now = exc.id or str(uuid.uuid4()), now_iso()
        async with self._transaction() as db:
            host_id = None
            if exc.scope == "host":
                host_id = await db.fetchval("SELECT id FROM hosts WHERE name = $1", exc.host)
                if host_id is None:
                    raise NotFound(f"no host named {exc.host!r}; see `compliance-tui hosts list`")
            await db.execute(
                "INSERT INTO rule_exceptions (id, scope, host_id, tag, rule_id, reason, accepted_by, expires, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                exc_id, exc.scope, host_id, exc.tag if exc.scope == "tag" else None, exc.rule_id, exc.reason,
                exc.accepted_by, exc.expires, now)
        return await self.get_exception(exc_id)

    async def get_exception(self, exc_id: str) -> RuleException:
        rows = await self._by_prefix(_EXC_SELECT, "e.id", exc_id, "exception", "exceptions list")
        return _exception(rows[0])

    async def find_exceptions(self) -> list[RuleException]:
        return [_exception(r) for r in await self._rows(f"{_EXC_SELECT} ORDER BY e.created_at, e.id")]

    async def remove_exception(self, exc_id: str) -> RuleException:
        exc = await self.get_exception(exc_id)
        async with self._transaction() as db:
            await db.execute("DELETE FROM rule_exceptions WHERE id = $1", exc.id)
        return exc

    async def failing_results(self, scan_ids: list[str], rule_ids: list[str]) -> list[tuple[str, str, str]]:
        if not scan_ids or not rule_ids:
            return []
        rows = await self._rows(
            "SELECT scan_id, rule_id, result FROM rule_results WHERE scan_id = ANY($1::text[]) "
            "AND rule_id = ANY($2::text[]) AND result = ANY($3::text[])", list(scan_ids), list(rule_ids), _BAD)
        return [tuple(r) for r in rows]

    async def failing_results_since(self, since: str | None, rule_ids: list[str]) -> list[tuple[str, str, str]]:
        if not rule_ids:
            return []
        rows = await self._rows(
            "SELECT r.scan_id, r.rule_id, r.result FROM scans s JOIN rule_results r ON r.scan_id = s.id "
            "WHERE s.status = 'completed' AND s.created_at >= $1 AND r.rule_id = ANY($2::text[]) "
            "AND r.result = ANY($3::text[])", since or "", list(rule_ids), _BAD)
        return [tuple(r) for r in rows]

    # ------------------------------------------------------------------ fleet reads

    async def score_points(self, since: str | None = None, host: str | None = None) -> list[ScorePoint]:
        sql = ("SELECT h.name, s.id, s.created_at, s.score, COALESCE(s.n_pass, 0) + COALESCE(s.n_fixed, 0), "
               "COALESCE(s.n_fail, 0) + COALESCE(s.n_error, 0) + COALESCE(s.n_unknown, 0) "
               "FROM scans s JOIN hosts h ON h.id = s.host_id WHERE s.status = 'completed' AND s.created_at >= $1")
        params: list = [since or ""]
        if host is not None:
            sql += " AND h.name = $2"
            params.append(host)
        return [ScorePoint(*r) for r in await self._rows(sql + " ORDER BY s.created_at", *params)]

    async def results_of(self, scan_ids: list[str], result: str = "fail") -> list[tuple[str, str]]:
        rows = await self._rows("SELECT scan_id, rule_id FROM rule_results WHERE scan_id = ANY($1::text[]) "
                                "AND result = $2", list(scan_ids), result)
        return [tuple(r) for r in rows]

    async def rule_titles(self, rule_ids: list[str]) -> dict[str, tuple[str, str]]:
        rows = await self._rows(
            "SELECT rule_id, MAX(title) AS title, MAX(severity) AS severity FROM rules "
            "WHERE rule_id = ANY($1::text[]) GROUP BY rule_id", list(rule_ids))
        return {r["rule_id"]: (r["title"] or "", r["severity"] or "unknown") for r in rows}

    # ------------------------------------------------------------------ AI explanations and usage

    async def get_explanation(self, content_id: str, rule_id: str, result: str, model: str,
                              limit: int | None = None) -> Explanation | None:
        rows = await self._rows(
            "SELECT content_id, rule_id, result, model, substr(text, 1, $5) AS text, length(text) AS length, "
            "created_at, input_tokens, output_tokens FROM ai_explanations "
            "WHERE content_id = $1 AND rule_id = $2 AND result = $3 AND model = $4",
            content_id, rule_id, result, model, limit or 2**31 - 1)
        return explanation_of(rows[0]) if rows else None

    async def explained_rules(self, content_id: str, model: str) -> set[tuple[str, str]]:
        rows = await self._rows("SELECT rule_id, result FROM ai_explanations WHERE content_id = $1 AND model = $2",
                                content_id, model)
        return {(r["rule_id"], r["result"]) for r in rows}

    async def save_explanation(self, explanation: Explanation) -> Explanation:
        saved = replace(explanation, created_at=explanation.created_at or now_iso())
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO ai_explanations (content_id, rule_id, result, model, text, input_tokens, "
                "output_tokens, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (content_id, rule_id, result, model) DO UPDATE SET text = excluded.text, "
                "input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, "
                "created_at = excluded.created_at",
                saved.content_id, saved.rule_id, saved.result, saved.model, saved.text,
                saved.input_tokens, saved.output_tokens, saved.created_at)
        return saved

    async def record_ai_usage(self, day: str, model: str, input_tokens: int, output_tokens: int,
                              estimated: bool = False) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO ai_usage AS u (day, model, requests, input_tokens, output_tokens, estimated) "
                "VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (day, model) DO UPDATE SET "
                "requests = u.requests + 1, input_tokens = u.input_tokens + excluded.input_tokens, "
                "output_tokens = u.output_tokens + excluded.output_tokens, estimated = u.estimated + excluded.estimated",
                day, model, max(0, int(input_tokens)), max(0, int(output_tokens)), int(bool(estimated)))

    async def ai_usage(self, since: str | None = None) -> list[AiUsage]:
        if since:
            rows = await self._rows("SELECT * FROM ai_usage WHERE day >= $1 ORDER BY day DESC, model", since)
        else:
            rows = await self._rows("SELECT * FROM ai_usage ORDER BY day DESC, model")
        return [AiUsage(r["day"], r["model"], r["requests"], r["input_tokens"], r["output_tokens"],
                        r["estimated"]) for r in rows]
