"""Schedules' SQL on SQLite (a part of SqliteStore, see sqlite.py).

A due slot is enqueued in one BEGIN IMMEDIATE transaction that moves the schedule's
last_slot forward only if it is still behind, records the slot in schedule_runs (primary
key: schedule and slot) and creates the scan jobs: whichever process gets there first
enqueues it, every other one finds the slot taken and does nothing.
"""

from __future__ import annotations

import json
import uuid

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import Job
from core.domain.policy import Schedule
from core.domain.timeutil import now_iso
from core.store.base import NewScanJob

_COLUMNS = ("target_kind", "targets", "profile", "tailoring", "cadence", "tz", "priority", "paused",
            "not_before")


class _SlotTaken(Exception):
    """Rolls the transaction back: another process enqueued this slot first."""


def _values(schedule: Schedule) -> tuple:
    return (schedule.target_kind, json.dumps(list(schedule.targets)), schedule.profile, schedule.tailoring,
            schedule.cadence, schedule.tz, schedule.priority, int(schedule.paused), schedule.not_before)


class SqliteSchedules:
    """Mixed into SqliteStore: uses its _transaction, _rows and _by_prefix."""

    async def add_schedule(self, schedule: Schedule) -> Schedule:
        schedule_id, now = schedule.id or str(uuid.uuid4()), now_iso()  # a given id: tests
        not_before = schedule.not_before or now
        async with self._transaction() as db:
            await db.execute(
                f"INSERT INTO schedules (id, {', '.join(_COLUMNS)}, created_at, updated_at) "
                f"VALUES (?, {', '.join('?' * len(_COLUMNS))}, ?, ?)",
                (schedule_id, *_values(schedule)[:-1], not_before, now, now))
        return await self.get_schedule(schedule_id)

    async def update_schedule(self, schedule: Schedule) -> Schedule:
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS)
        async with self._transaction() as db:
            cursor = await db.execute(f"UPDATE schedules SET {assignments}, updated_at = ? WHERE id = ?",
                                      (*_values(schedule), now_iso(), schedule.id))
            if cursor.rowcount != 1:
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
            await db.execute("DELETE FROM schedules WHERE id = ?", (schedule.id,))
        return schedule

    async def enqueue_schedule_slot(
        self, schedule_id: str, slot: str, wanted: list[NewScanJob], enqueued_by: str,
        owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job] | None:
        now = now_iso()
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    "UPDATE schedules SET last_slot = ?, last_run_at = ?, last_jobs = ? WHERE id = ? "
                    "AND paused = 0 AND not_before < ? AND (last_slot IS NULL OR last_slot < ?)",
                    (slot, now, len(wanted), schedule_id, slot, slot))
                if cursor.rowcount != 1:
                    raise _SlotTaken
                cursor = await db.execute(
                    "INSERT INTO schedule_runs (schedule_id, slot, enqueued_at, enqueued_by, jobs) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (schedule_id, slot, now, enqueued_by, len(wanted)))
                if cursor.rowcount != 1:
                    raise _SlotTaken
                tagged = [NewScanJob(w.host, w.profile, w.params | {"schedule": schedule_id, "slot": slot},
                                     w.priority, w.scan_id, w.created_at, w.job_id, w.for_workers) for w in wanted]
                ids = await self._insert_scan_jobs(db, tagged, owner, lease_until)
        except _SlotTaken:
            return None
        return [await self.get_job(i) for i in ids]

    async def schedule_runs(self, schedule_id: str) -> list[dict]:
        rows = await self._rows("SELECT slot, enqueued_at, enqueued_by, jobs FROM schedule_runs "
                                "WHERE schedule_id = ? ORDER BY slot", (schedule_id,))
        return [dict(r) for r in rows]

    async def schedule_outcomes(self) -> dict[str, dict[str, int]]:
        rows = await self._rows(
            "SELECT s.id, j.status, COUNT(*) AS n FROM schedules s JOIN jobs j "
            "ON json_extract(j.params, '$.schedule') = s.id AND json_extract(j.params, '$.slot') = s.last_slot "
            "WHERE s.last_slot IS NOT NULL GROUP BY s.id, j.status")
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row["id"], {})[row["status"]] = row["n"]
        return found


def _schedule(row) -> Schedule:
    if row is None:
        raise InvalidInput("no such schedule")
    return Schedule(
        target_kind=row["target_kind"], targets=tuple(json.loads(row["targets"] or "[]")),
        profile=row["profile"], cadence=row["cadence"], tz=row["tz"], tailoring=row["tailoring"],
        paused=bool(row["paused"]), priority=row["priority"], id=row["id"], created_at=row["created_at"],
        updated_at=row["updated_at"], not_before=row["not_before"], last_slot=row["last_slot"],
        last_run_at=row["last_run_at"], last_jobs=row["last_jobs"],
    )
