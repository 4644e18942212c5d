"""The job queue's SQL on SQLite (a part of SqliteStore, see sqlite.py).

Claiming is one UPDATE ... RETURNING inside BEGIN IMMEDIATE: SQLite lets one writer in at a
time across every process, so two workers can never take the same job. Leases are ISO times
(they sort as text); a process renews its leases while it works, and whoever sees a lease run
out re-queues or fails the job, whichever machine it ran on.
"""

from __future__ import annotations

import asyncio
import json
import uuid

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import HOST_CHANGING_KINDS, RERUNNABLE_KINDS, UNFINISHED_JOBS, Host, Job, JobStatus
from core.domain.timeutil import now_iso
from core.store.base import Expired, NewScanJob
from core.store.sqlite_migrations import JOBS_CHANGED

_JOB_SELECT = "SELECT j.*, h.name AS host_name FROM jobs j JOIN hosts h ON h.id = j.host_id"
_JOB_LIST_COLUMNS = (
    "j.id, j.kind, j.host_id, j.params, j.priority, j.status, j.created_at, j.started_at, "
    "j.finished_at, j.attempts, j.error, substr(j.output, -240) AS output, j.scan_id, j.lease_owner, "
    "j.lease_until, j.cancel_requested, j.progress_done, j.progress_total, j.current, j.current_since, j.result, "
    "h.name AS host_name"
)
_CHANGING = "(" + ", ".join(f"'{k}'" for k in sorted(HOST_CHANGING_KINDS) or [""]) + ")"
_UNFINISHED = "(" + ", ".join(f"'{s.value}'" for s in UNFINISHED_JOBS) + ")"
MAX_ATTEMPTS = 2  # a job whose worker died runs once more, where that is safe
CHANGE_POLL = 1.0  # seconds between looks at the job change counter (wait_for_change)


class SqliteJobs:
    """Mixed into SqliteStore: uses its _transaction, _rows and _by_prefix."""

    async def create_scan_jobs(
        self, wanted: list[NewScanJob], owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job]:
        async with self._transaction() as db:
            ids = await self._insert_scan_jobs(db, wanted, owner, lease_until)
        return [await self.get_job(i) for i in ids]

    async def _insert_scan_jobs(self, db, wanted: list[NewScanJob], owner: str | None,
                                lease_until: str | None) -> list[str]:
        """The scans and jobs of create_scan_jobs, inside the caller's transaction."""
        now = now_iso()
        ids = []
        for item in wanted:
            mine = owner if not item.for_workers else None
            status = JobStatus.QUEUED if mine else JobStatus.PENDING
            scan_id = item.scan_id or str(uuid.uuid4())
            created = item.created_at or now
            params = item.params | {"profile": item.profile}
            await db.execute(
                "INSERT INTO scans (id, host_id, profile, status, created_at, updated_at) "
                "VALUES (?, ?, ?, 'pending', ?, ?)", (scan_id, item.host.id, item.profile, created, now))
            job_id = item.job_id or str(uuid.uuid4())
            await db.execute(
                "INSERT INTO jobs (id, kind, host_id, params, priority, status, created_at, scan_id, "
                "lease_owner, lease_until, updated_at) VALUES (?, 'scan', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, item.host.id, json.dumps(params), item.priority, status.value, created,
                 scan_id, mine, lease_until if mine else None, now))
            ids.append(job_id)
        return ids

    async def create_harden_job(self, host: Host, params: dict, priority: int,
                                owner: str | None = None, lease_until: str | None = None) -> Job:
        now, job_id = now_iso(), str(uuid.uuid4())
        status = JobStatus.QUEUED if owner else JobStatus.PENDING
        async with self._transaction() as db:
            busy = await (await db.execute(
                f"SELECT id FROM jobs WHERE host_id = ? AND kind = 'harden' AND status IN {_UNFINISHED}",
                (host.id,))).fetchone()
            if busy:
                raise InvalidInput(f"{host.name} has a hardening job already ({busy['id'][:8]}): one at a "
                                   "time per host; wait for it or cancel it (compliance-tui jobs cancel)")
            await db.execute(
                "INSERT INTO jobs (id, kind, host_id, params, priority, status, created_at, lease_owner, "
                "lease_until, updated_at) VALUES (?, 'harden', ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, host.id, json.dumps(params), priority, status.value, now, owner,
                 lease_until if owner else None, now))
        return await self.get_job(job_id)

    async def add_job_scan(self, job_id: str, profile: str) -> str:
        scan_id, now = str(uuid.uuid4()), now_iso()
        async with self._transaction() as db:
            row = await (await db.execute("SELECT host_id FROM jobs WHERE id = ? AND status = 'running'",
                                          (job_id,))).fetchone()
            if row is None:
                raise InvalidInput(f"job {job_id[:8]} is not running")
            await db.execute(
                "INSERT INTO scans (id, host_id, profile, status, created_at, started_at, updated_at) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)", (scan_id, row["host_id"], profile, now, now, now))
            await db.execute("UPDATE jobs SET scan_id = ?, progress_done = 0, progress_total = NULL, "
                             "updated_at = ? WHERE id = ?", (scan_id, now, job_id))
        return scan_id

    async def set_job_result(self, job_id: str, result: dict) -> None:
        async with self._transaction() as db:
            await db.execute("UPDATE jobs SET result = ?, updated_at = ? WHERE id = ?",
                             (json.dumps(result), now_iso(), job_id))

    async def claim_job(self, owner: str, lease_until: str, take_pending: bool,
                        zone: str | None = None) -> Job | None:
        now = now_iso()
        async with self._transaction() as db:
            row = await (await db.execute(
                "UPDATE jobs SET status = 'running', lease_owner = :owner, lease_until = :until, "
                "started_at = :now, attempts = attempts + 1, progress_done = 0, current = NULL, "
                "updated_at = :now WHERE id = ("
                # the partial index jobs_waiting gives the order; jobs_running answers the host test
                "  SELECT j.id FROM jobs j WHERE j.status IN ('pending', 'queued')"
                "  AND ((j.status = 'queued' AND j.lease_owner = :owner) OR (:take AND j.status = 'pending'"
                "    AND (SELECT z.zone FROM hosts z WHERE z.id = j.host_id) IS :zone))"
                "  AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.status = 'running' AND r.host_id = j.host_id"
                f"    AND (r.kind IN {_CHANGING} OR j.kind IN {_CHANGING}))"
                "  ORDER BY j.priority DESC, j.created_at, j.rowid LIMIT 1"
                ") RETURNING id, scan_id",
                {"owner": owner, "until": lease_until, "now": now, "take": int(take_pending), "zone": zone})).fetchone()
            if row is None:
                return None
            if row["scan_id"]:
                await db.execute(
                    "UPDATE scans SET status = 'running', started_at = ?, progress_done = 0, "
                    "error_message = NULL, updated_at = ? WHERE id = ?", (now, now, row["scan_id"]))
            found = await (await db.execute(f"{_JOB_SELECT} WHERE j.id = ?", (row["id"],))).fetchone()
        return _job(found)

    async def renew_leases(self, owner: str, lease_until: str) -> set[str]:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE jobs SET lease_until = ? WHERE lease_owner = ? AND status IN ('queued', 'running')",
                (lease_until, owner))
            rows = await db.execute_fetchall(
                "SELECT id FROM jobs WHERE lease_owner = ? AND status IN ('queued', 'running') "
                "AND cancel_requested = 1", (owner,))
        return {r["id"] for r in rows}

    async def release_jobs(self, owner: str, job_ids: list[str] | None = None) -> int:
        now = now_iso()
        note = f"{now[:19]}Z released by {owner}: it stopped before finishing; back in the queue\n"
        if job_ids is None:
            where, params = "lease_owner = ? AND status = 'queued'", [owner]
        else:
            marks = ", ".join("?" * len(job_ids))
            where, params = f"lease_owner = ? AND status IN ('queued', 'running') AND id IN ({marks})", \
                [owner, *job_ids]
        async with self._transaction() as db:
            rows = await db.execute_fetchall(f"SELECT id, scan_id FROM jobs WHERE {where}", params)
            for row in rows:
                await self._requeue(db, row["id"], row["scan_id"], note, now)
        return len(rows)

    async def _requeue(self, db, job_id: str, scan_id: str | None, note: str, now: str) -> None:
        await db.execute(
            "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_until = NULL, started_at = NULL, "
            "progress_done = 0, current = NULL, current_since = NULL, output = output || ?, "
            "updated_at = ? WHERE id = ?", (note, now, job_id))
        if scan_id:
            await db.execute(
                "UPDATE scans SET status = 'pending', started_at = NULL, progress_done = 0, updated_at = ? "
                "WHERE id = ? AND status IN ('pending', 'running')", (now, scan_id))

    async def expire_leases(self, now: str) -> list[Expired]:
        expired = []
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                f"{_JOB_SELECT} WHERE j.status IN ('queued', 'running') AND j.lease_until < ?", (now,))
            for row in rows:
                job = _job(row)
                stamp = f"{now[:19]}Z"
                if job.status is JobStatus.QUEUED or (
                        job.kind in RERUNNABLE_KINDS and job.attempts < MAX_ATTEMPTS and not job.cancel_requested):
                    await self._requeue(db, job.id, job.scan_id, f"{stamp} {job.lease_owner} stopped (lease "
                                        "expired); re-queued\n", now)
                    expired.append(Expired(job, True))
                    continue
                reason = "worker stopped (lease expired)" + (
                    "; the host's dead man's switch restores /etc" if job.kind == "harden" else "")
                await self._finish(db, job.id, job.scan_id, JobStatus.FAILED, reason,
                                   job.output + f"{stamp} {job.lease_owner} stopped (lease expired)\n", now)
                expired.append(Expired(job, False))
        return expired

    async def record_progress(
        self, job_id: str, done: int, total: int | None, current: str | None,
        current_since: str | None, output: str,
    ) -> None:
        now = now_iso()
        async with self._transaction() as db:
            row = await (await db.execute(
                "UPDATE jobs SET progress_done = ?, progress_total = COALESCE(?, progress_total), current = ?, "
                "current_since = ?, output = ?, updated_at = ? WHERE id = ? AND status = 'running' "
                "RETURNING scan_id", (done, total, current, current_since, output, now, job_id))).fetchone()
            if row and row["scan_id"]:
                await db.execute("UPDATE scans SET progress_done = ?, updated_at = ? WHERE id = ? "
                                 "AND status = 'running'", (done, now, row["scan_id"]))

    async def finish_job(self, job_id: str, status: str, error: str | None = None,
                         output: str | None = None, finished_at: str | None = None) -> Job:
        status = JobStatus(status)
        if not status.finished:
            raise ValueError(f"not an end state: {status}")
        job = await self.get_job(job_id)
        async with self._transaction() as db:
            await self._finish(db, job.id, job.scan_id, status, error, output, finished_at or now_iso())
        return await self.get_job(job.id)

    async def _finish(self, db, job_id: str, scan_id: str | None, status: JobStatus, error: str | None,
                      output: str | None, now: str) -> None:
        cursor = await db.execute(
            "UPDATE jobs SET status = ?, error = ?, finished_at = ?, output = COALESCE(?, output), "
            "lease_until = NULL, current = NULL, updated_at = ? "
            f"WHERE id = ? AND status IN {_UNFINISHED}", (status.value, error, now, output, now, job_id))
        if cursor.rowcount and scan_id and status is not JobStatus.COMPLETED:
            await db.execute(
                "UPDATE scans SET status = 'failed', error_message = ?, finished_at = ?, updated_at = ? "
                "WHERE id = ? AND status IN ('pending', 'running')", (error, now, now, scan_id))

    async def cancel_job(self, job_id: str) -> Job:
        job = await self.get_job(job_id)
        now = now_iso()
        async with self._transaction() as db:
            if job.status in (JobStatus.PENDING, JobStatus.QUEUED):
                await self._finish(db, job.id, job.scan_id, JobStatus.CANCELLED, "cancelled before it started",
                                   job.output + f"{now[:19]}Z cancelled before it started\n", now)
            elif job.status is JobStatus.RUNNING:
                await db.execute("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? "
                                 "AND status = 'running'", (now, job.id))
        return await self.get_job(job.id)

    async def set_job_priority(self, job_id: str, priority: int) -> Job:
        if not isinstance(priority, int) or not 1 <= priority <= 10:
            raise InvalidInput(f"invalid priority {priority!r}: use a number from 1 (last) to 10 (first)")
        job = await self.get_job(job_id)
        if job.status.finished:
            raise InvalidInput(f"job {job.short_id} is {job.status.value}: priority only orders waiting jobs")
        async with self._transaction() as db:
            await db.execute("UPDATE jobs SET priority = ?, updated_at = ? WHERE id = ?",
                             (priority, now_iso(), job.id))
        return await self.get_job(job.id)

    async def get_job(self, job_id: str) -> Job:
        return _job((await self._by_prefix(_JOB_SELECT, "j.id", job_id, "job", "jobs list"))[0])

    async def job_for_scan(self, scan_id: str) -> Job | None:
        rows = await self._rows(f"{_JOB_SELECT} WHERE j.scan_id = ? ORDER BY j.created_at DESC LIMIT 1",
                                (scan_id,))
        return _job(rows[0]) if rows else None

    async def find_jobs(
        self, status: str | None = None, host: str | None = None, kind: str | None = None,
        offset: int = 0, limit: int | None = None,
    ) -> tuple[list[Job], int]:
        where, params = [], []
        for clause, value in (("j.status = ?", status), ("h.name = ?", host), ("j.kind = ?", kind)):
            if value is not None:
                where.append(clause)
                params.append(value)
        tail = (f" WHERE {' AND '.join(where)}" if where else "")
        source = " FROM jobs j JOIN hosts h ON h.id = j.host_id" + tail
        (total,) = (await self._rows("SELECT COUNT(*)" + source, params))[0]
        sql = f"SELECT {_JOB_LIST_COLUMNS}{source} ORDER BY j.created_at DESC, j.rowid DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [_job(r) for r in await self._rows(sql, params)], total

    async def job_status_counts(self) -> dict[str, int]:
        rows = await self._rows("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    # ------------------------------------------------------------------ change notifications

    async def wait_for_change(self, timeout: float) -> bool:
        """True once any process has created, removed or changed the state of a job since the
        last call (migration 12's counter, read every CHANGE_POLL seconds: one row of meta),
        False after timeout seconds without one. One caller at a time: the TUI's StoreChanges."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._jobs_seen is None:
            self._jobs_seen = await self.get_meta(JOBS_CHANGED)
        while True:
            now = await self.get_meta(JOBS_CHANGED)
            if now != self._jobs_seen:
                self._jobs_seen = now
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(CHANGE_POLL, left))


def _job(row) -> Job:
    if row is None:
        raise NotFound("no such job")
    return Job(
        id=row["id"], kind=row["kind"], host_id=row["host_id"], host_name=row["host_name"],
        params=json.loads(row["params"] or "{}"), priority=row["priority"], status=JobStatus(row["status"]),
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        attempts=row["attempts"], error=row["error"], output=row["output"] or "", scan_id=row["scan_id"],
        lease_owner=row["lease_owner"], lease_until=row["lease_until"],
        cancel_requested=bool(row["cancel_requested"]), progress_done=row["progress_done"],
        progress_total=row["progress_total"], current=row["current"], current_since=row["current_since"],
        result=json.loads(row["result"]) if row["result"] else None,
    )
