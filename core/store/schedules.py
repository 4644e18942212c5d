"""Schedules' queries (ScheduleStore in base.py), for both backends.

A due slot is enqueued in one transaction that moves the schedule's last_slot forward only
while it is still behind, records the slot in schedule_runs (primary key: schedule and slot)
and creates the scan jobs: whichever process gets there first enqueues it; every other one
(on SQLite it waits for BEGIN IMMEDIATE, on PostgreSQL for the schedule's row lock) then finds
the slot taken and does nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import UNFINISHED_JOBS, Job
from core.domain.policy import Schedule
from core.domain.timeutil import now_iso
from core.store.base import NewScanJob, RunToNotify, ScheduleStore
from core.store.db import Db, Row, by_prefix, marks
from core.store.jobs import JOB_SELECT, insert_scan_jobs, job_of, jobs_by_id

_COLUMNS = ("target_kind", "targets", "profile", "tailoring", "cadence", "tz", "priority", "paused",
            "notify", "heartbeat", "not_before")


class _SlotTaken(Exception):
    """Rolls the transaction back: another process enqueued this slot first."""


def _values(schedule: Schedule) -> list[object]:
    return [schedule.target_kind, json.dumps(list(schedule.targets)), schedule.profile, schedule.tailoring,
            schedule.cadence, schedule.tz, schedule.priority, bool(schedule.paused),
            json.dumps(list(schedule.notify)), bool(schedule.heartbeat), schedule.not_before]


def schedule_of(row: Row | None) -> Schedule:
    if row is None:
        raise InvalidInput("no such schedule")
    return Schedule(
        target_kind=row["target_kind"], targets=tuple(json.loads(row["targets"] or "[]")),
        profile=row["profile"], cadence=row["cadence"], tz=row["tz"], tailoring=row["tailoring"],
        paused=bool(row["paused"]), priority=row["priority"], id=row["id"], created_at=row["created_at"],
        updated_at=row["updated_at"], not_before=row["not_before"], last_slot=row["last_slot"],
        last_run_at=row["last_run_at"], last_jobs=row["last_jobs"],
        notify=tuple(json.loads(row["notify"] or "[]")), heartbeat=bool(row["heartbeat"]),
    )


class Schedules(ScheduleStore):
    """Uses the job queue's insert_scan_jobs and jobs_by_id (jobs.py)."""

    db: Db

    async def add_schedule(self, schedule: Schedule) -> Schedule:
        schedule_id, now = schedule.id or str(uuid.uuid4()), now_iso()  # a given id: tests
        values = _values(schedule)[:-1] + [schedule.not_before or now]
        await self.db.execute(
            f"INSERT INTO schedules (id, {', '.join(_COLUMNS)}, created_at, updated_at) "
            f"VALUES (?, {marks(_COLUMNS)}, ?, ?)", [schedule_id, *values, now, now])
        return await self.get_schedule(schedule_id)

    async def update_schedule(self, schedule: Schedule) -> Schedule:
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS)
        changed = await self.db.execute(f"UPDATE schedules SET {assignments}, updated_at = ? WHERE id = ?",
                                        [*_values(schedule), now_iso(), schedule.id])
        if changed != 1 or schedule.id is None:  # without an id the UPDATE found nothing either
            raise NotFound(f"no schedule {schedule.short_id}; see `compliance-tui schedules list`")
        return await self.get_schedule(schedule.id)

    async def get_schedule(self, schedule_id: str) -> Schedule:
        return schedule_of(await by_prefix(self.db, "SELECT * FROM schedules", "id", schedule_id, "schedule",
                                           "schedules list"))

    async def find_schedules(self) -> list[Schedule]:
        return [schedule_of(r) for r in await self.db.fetch("SELECT * FROM schedules ORDER BY created_at, id")]

    async def remove_schedule(self, schedule_id: str) -> Schedule:
        schedule = await self.get_schedule(schedule_id)
        await self.db.execute("DELETE FROM schedules WHERE id = ?", (schedule.id,))
        return schedule

    async def enqueue_schedule_slot(
        self, schedule_id: str, slot: str, wanted: list[NewScanJob], enqueued_by: str,
        owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job] | None:
        now = now_iso()
        try:
            async with self.db.transaction() as db:
                moved = await db.execute(
                    "UPDATE schedules SET last_slot = ?, last_run_at = ?, last_jobs = ? WHERE id = ? "
                    "AND NOT paused AND not_before < ? AND (last_slot IS NULL OR last_slot < ?)",
                    (slot, now, len(wanted), schedule_id, slot, slot))
                if moved != 1:
                    raise _SlotTaken
                recorded = await db.execute(
                    "INSERT INTO schedule_runs (schedule_id, slot, enqueued_at, enqueued_by, jobs) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (schedule_id, slot, now, enqueued_by, len(wanted)))
                if recorded != 1:
                    raise _SlotTaken
                tagged = [NewScanJob(w.host, w.profile, w.params | {"schedule": schedule_id, "slot": slot},
                                     w.priority, w.scan_id, w.created_at, w.job_id, w.for_workers) for w in wanted]
                ids = await insert_scan_jobs(db, tagged, owner, lease_until)
        except _SlotTaken:
            return None
        return await jobs_by_id(self.db, ids)

    async def schedule_runs(self, schedule_id: str) -> list[dict[str, Any]]:
        rows = await self.db.fetch("SELECT slot, enqueued_at, enqueued_by, jobs, notify_state, notify_note "
                                   "FROM schedule_runs WHERE schedule_id = ? ORDER BY slot", (schedule_id,))
        return [dict(r) for r in rows]

    async def runs_to_notify(self, now: str) -> list[RunToNotify]:
        d = self.db.dialect
        unfinished = ", ".join(f"'{s.value}'" for s in UNFINISHED_JOBS)
        rows = await self.db.fetch(
            "SELECT r.schedule_id, r.slot FROM schedule_runs r "
            "WHERE (r.notify_state IS NULL OR (r.notify_state = 'sending' AND r.notify_until < ?)) "
            f"AND NOT EXISTS (SELECT 1 FROM jobs j WHERE {d.json_text('j.params', 'schedule')} = r.schedule_id "
            f"AND {d.json_text('j.params', 'slot')} = r.slot AND j.status IN ({unfinished})) "
            "ORDER BY r.slot, r.schedule_id", (now,))
        return [RunToNotify(r["schedule_id"], r["slot"]) for r in rows]

    async def claim_run_notice(self, run: RunToNotify, owner: str, until: str, now: str) -> bool:
        return await self.db.execute(
            "UPDATE schedule_runs SET notify_state = 'sending', notify_owner = ?, notify_until = ? "
            "WHERE schedule_id = ? AND slot = ? "
            "AND (notify_state IS NULL OR (notify_state = 'sending' AND notify_until < ?))",
            (owner, until, run.schedule_id, run.slot, now)) == 1

    async def finish_run_notice(self, run: RunToNotify, owner: str, state: str, note: str) -> None:
        await self.db.execute(
            "UPDATE schedule_runs SET notify_state = ?, notify_note = ?, notify_until = NULL "
            "WHERE schedule_id = ? AND slot = ? AND notify_state = 'sending' AND notify_owner = ?",
            (state, note, run.schedule_id, run.slot, owner))

    async def slot_jobs(self, run: RunToNotify) -> list[Job]:
        d = self.db.dialect
        rows = await self.db.fetch(
            f"{JOB_SELECT} WHERE {d.json_text('j.params', 'schedule')} = ? AND {d.json_text('j.params', 'slot')} = ? "
            "ORDER BY h.name, j.created_at", (run.schedule_id, run.slot))
        return [job_of(r) for r in rows]

    async def schedule_outcomes(self) -> dict[str, dict[str, int]]:
        d = self.db.dialect
        rows = await self.db.fetch(
            "SELECT s.id, j.status, COUNT(*) AS n FROM schedules s JOIN jobs j "
            f"ON {d.json_text('j.params', 'schedule')} = s.id AND {d.json_text('j.params', 'slot')} = s.last_slot "
            "WHERE s.last_slot IS NOT NULL GROUP BY s.id, j.status")
        found: dict[str, dict[str, int]] = {}
        for row in rows:
            found.setdefault(row["id"], {})[row["status"]] = row["n"]
        return found
