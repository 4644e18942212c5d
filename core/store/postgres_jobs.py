"""The job queue's SQL on PostgreSQL (a part of PostgresStore, see postgres.py).

A claim is one transaction: the next waiting job is picked and row-locked with
FOR UPDATE SKIP LOCKED, so claimers on many machines never wait for each other and never take
the same job. A job that changes its host must not start beside another job of that host: the
claim takes an advisory lock on the host (shared for a scan, exclusive for a hardening job, never
waiting: a busy host's job is skipped for now) and then checks the running jobs again in a fresh
statement, which under READ COMMITTED sees every claim committed before the lock was granted.
"""

from __future__ import annotations

import json
import uuid

from core.domain.errors import InvalidInput
from core.domain.models import HOST_CHANGING_KINDS, RERUNNABLE_KINDS, UNFINISHED_JOBS, Host, Job, JobStatus
from core.domain.timeutil import now_iso
from core.store.base import Expired, NewScanJob
from core.store.sqlite_jobs import MAX_ATTEMPTS, _job  # the row -> Job reader: no SQL in it

JOB_SELECT = "SELECT j.*, h.name AS host_name FROM jobs j JOIN hosts h ON h.id = j.host_id"
_LIST_COLUMNS = (
    "j.id, j.kind, j.host_id, j.params, j.priority, j.status, j.created_at, j.started_at, "
    "j.finished_at, j.attempts, j.error, right(j.output, 240) AS output, j.scan_id, j.lease_owner, "
    "j.lease_until, j.cancel_requested, j.progress_done, j.progress_total, j.current, j.current_since, j.result, "
    "h.name AS host_name"
)
CHANGING = sorted(HOST_CHANGING_KINDS)
UNFINISHED = [s.value for s in UNFINISHED_JOBS]
HOST_LOCK = 0x43540018  # advisory lock namespace: (HOST_LOCK, host id) while a claim decides
CLAIM_TRIES = 8  # candidates skipped for a busy host before this claim gives up (the next poll retries)

_CANDIDATE = (
    "SELECT j.id, j.host_id, j.kind FROM jobs j JOIN hosts h ON h.id = j.host_id "
    "WHERE j.status IN ('pending', 'queued') "
    "AND ((j.status = 'queued' AND j.lease_owner = $1) "
    "  OR ($2 AND j.status = 'pending' AND h.zone IS NOT DISTINCT FROM $3)) "
    "AND NOT (j.id = ANY($4::text[])) "
    "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.status = 'running' AND r.host_id = j.host_id "
    "  AND (r.kind = ANY($5::text[]) OR j.kind = ANY($5::text[]))) "
    "ORDER BY j.priority DESC, j.created_at, j.seq LIMIT 1 "
    "FOR UPDATE OF j SKIP LOCKED"
)


class PostgresJobs:
    """Mixed into PostgresStore: uses its _transaction, _rows and _by_prefix."""

    async def create_scan_jobs(
        self, wanted: list[NewScanJob], owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job]:
        async with self._transaction() as db:
            ids = await self._insert_scan_jobs(db, wanted, owner, lease_until)
        return await self._jobs_by_id(ids)

    async def _jobs_by_id(self, ids: list[str]) -> list[Job]:
        rows = await self._rows(f"{JOB_SELECT} WHERE j.id = ANY($1::text[])", ids)
        found = {r["id"]: _job(r) for r in rows}
        return [found[i] for i in ids]

    async def _insert_scan_jobs(self, db, wanted: list[NewScanJob], owner: str | None,
                                lease_until: str | None) -> list[str]:
        now = now_iso()
        scans, jobs = [], []
        for item in wanted:
            mine = owner if not item.for_workers else None
            status = JobStatus.QUEUED if mine else JobStatus.PENDING
            scan_id = item.scan_id or str(uuid.uuid4())
            created = item.created_at or now
            scans.append((scan_id, item.host.id, item.profile, created, now))
            jobs.append((item.job_id or str(uuid.uuid4()), item.host.id, json.dumps(item.params | {"profile": item.profile}),
                         item.priority, status.value, created, scan_id, mine, lease_until if mine else None, now))
        if scans:  # one statement each: a schedule's thousands of jobs in one round trip
            await db.executemany("INSERT INTO scans (id, host_id, profile, status, created_at, updated_at) "
                                 "VALUES ($1, $2, $3, 'pending', $4, $5)", scans)
            await db.executemany(
                "INSERT INTO jobs (id, kind, host_id, params, priority, status, created_at, scan_id, lease_owner, "
                "lease_until, updated_at) VALUES ($1, 'scan', $2, $3, $4, $5, $6, $7, $8, $9, $10)", jobs)
        return [j[0] for j in jobs]

    async def create_harden_job(self, host: Host, params: dict, priority: int,
                                owner: str | None = None, lease_until: str | None = None) -> Job:
        now, job_id = now_iso(), str(uuid.uuid4())
        status = JobStatus.QUEUED if owner else JobStatus.PENDING
        async with self._transaction() as db:
            # the host row's lock makes two processes asking at once take turns
            await db.execute("SELECT 1 FROM hosts WHERE id = $1 FOR UPDATE", host.id)
            busy = await db.fetchval("SELECT id FROM jobs WHERE host_id = $1 AND kind = 'harden' "
                                     "AND status = ANY($2::text[])", host.id, UNFINISHED)
            if busy:
                raise InvalidInput(f"{host.name} has a hardening job already ({busy[:8]}): one at a "
                                   "time per host; wait for it or cancel it (compliance-tui jobs cancel)")
            await db.execute(
                "INSERT INTO jobs (id, kind, host_id, params, priority, status, created_at, lease_owner, "
                "lease_until, updated_at) VALUES ($1, 'harden', $2, $3, $4, $5, $6, $7, $8, $9)",
                job_id, host.id, json.dumps(params), priority, status.value, now, owner,
                lease_until if owner else None, now)
        return await self.get_job(job_id)

    async def add_job_scan(self, job_id: str, profile: str) -> str:
        scan_id, now = str(uuid.uuid4()), now_iso()
        async with self._transaction() as db:
            host_id = await db.fetchval("SELECT host_id FROM jobs WHERE id = $1 AND status = 'running'", job_id)
            if host_id is None:
                raise InvalidInput(f"job {job_id[:8]} is not running")
            await db.execute(
                "INSERT INTO scans (id, host_id, profile, status, created_at, started_at, updated_at) "
                "VALUES ($1, $2, $3, 'running', $4, $4, $4)", scan_id, host_id, profile, now)
            await db.execute("UPDATE jobs SET scan_id = $1, progress_done = 0, progress_total = NULL, "
                             "updated_at = $2 WHERE id = $3", scan_id, now, job_id)
        return scan_id

    async def set_job_result(self, job_id: str, result: dict) -> None:
        async with self._transaction() as db:
            await db.execute("UPDATE jobs SET result = $1, updated_at = $2 WHERE id = $3",
                             json.dumps(result), now_iso(), job_id)

    async def claim_job(self, owner: str, lease_until: str, take_pending: bool,
                        zone: str | None = None) -> Job | None:
        now = now_iso()
        async with self._transaction() as db:
            skipped: list[str] = []
            for _ in range(CLAIM_TRIES):
                found = await db.fetchrow(_CANDIDATE, owner, take_pending, zone, skipped, CHANGING)
                if found is None:
                    return None
                lock = "pg_try_advisory_xact_lock" if found["kind"] in HOST_CHANGING_KINDS \
                    else "pg_try_advisory_xact_lock_shared"
                if await db.fetchval(f"SELECT {lock}($1, $2::int)", HOST_LOCK, found["host_id"]) and not \
                        await db.fetchval(
                            "SELECT EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND host_id = $1 "
                            "AND (kind = ANY($2::text[]) OR $3 = ANY($2::text[])))",
                            found["host_id"], CHANGING, found["kind"]):
                    break
                skipped.append(found["id"])
            else:
                return None
            scan_id = await db.fetchval(
                "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, started_at = $3, "
                "attempts = attempts + 1, progress_done = 0, current = NULL, updated_at = $3 WHERE id = $4 "
                "RETURNING scan_id", owner, lease_until, now, found["id"])
            if scan_id:
                await db.execute(
                    "UPDATE scans SET status = 'running', started_at = $1, progress_done = 0, "
                    "error_message = NULL, updated_at = $1 WHERE id = $2", now, scan_id)
            row = await db.fetchrow(f"{JOB_SELECT} WHERE j.id = $1", found["id"])
        return _job(row)

    async def renew_leases(self, owner: str, lease_until: str) -> set[str]:
        async with self._transaction() as db:
            rows = await db.fetch(
                "UPDATE jobs SET lease_until = $1 WHERE lease_owner = $2 AND status IN ('queued', 'running') "
                "RETURNING id, cancel_requested", lease_until, owner)
        return {r["id"] for r in rows if r["cancel_requested"]}

    async def release_jobs(self, owner: str, job_ids: list[str] | None = None) -> int:
        now = now_iso()
        note = f"{now[:19]}Z released by {owner}: it stopped before finishing; back in the queue\n"
        async with self._transaction() as db:
            if job_ids is None:
                rows = await db.fetch("SELECT id, scan_id FROM jobs WHERE lease_owner = $1 AND status = 'queued' "
                                      "FOR UPDATE", owner)
            else:
                rows = await db.fetch("SELECT id, scan_id FROM jobs WHERE lease_owner = $1 AND status IN "
                                      "('queued', 'running') AND id = ANY($2::text[]) FOR UPDATE", owner, job_ids)
            for row in rows:
                await self._requeue(db, row["id"], row["scan_id"], note, now)
        return len(rows)

    async def _requeue(self, db, job_id: str, scan_id: str | None, note: str, now: str) -> None:
        await db.execute(
            "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_until = NULL, started_at = NULL, "
            "progress_done = 0, current = NULL, current_since = NULL, output = output || $1, "
            "updated_at = $2 WHERE id = $3", note, now, job_id)
        if scan_id:
            await db.execute(
                "UPDATE scans SET status = 'pending', started_at = NULL, progress_done = 0, updated_at = $1 "
                "WHERE id = $2 AND status IN ('pending', 'running')", now, scan_id)

    async def expire_leases(self, now: str) -> list[Expired]:
        expired = []
        async with self._transaction() as db:
            # SKIP LOCKED: a job another process is finishing or recovering right now is its business
            rows = await db.fetch(
                f"{JOB_SELECT} WHERE j.status IN ('queued', 'running') AND j.lease_until < $1 "
                "FOR UPDATE OF j SKIP LOCKED", now)
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
            scan_id = await db.fetchval(
                "UPDATE jobs SET progress_done = $1, progress_total = COALESCE($2, progress_total), current = $3, "
                "current_since = $4, output = $5, updated_at = $6 WHERE id = $7 AND status = 'running' "
                "RETURNING scan_id", done, total, current, current_since, output, now, job_id)
            if scan_id:
                await db.execute("UPDATE scans SET progress_done = $1, updated_at = $2 WHERE id = $3 "
                                 "AND status = 'running'", done, now, scan_id)

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
        ended = await db.fetchval(
            "UPDATE jobs SET status = $1, error = $2, finished_at = $3, output = COALESCE($4, output), "
            "lease_until = NULL, current = NULL, updated_at = $3 WHERE id = $5 AND status = ANY($6::text[]) "
            "RETURNING id", status.value, error, now, output, job_id, UNFINISHED)
        if ended and scan_id and status is not JobStatus.COMPLETED:
            await db.execute(
                "UPDATE scans SET status = 'failed', error_message = $1, finished_at = $2, updated_at = $2 "
                "WHERE id = $3 AND status IN ('pending', 'running')", error, now, scan_id)

    async def cancel_job(self, job_id: str) -> Job:
        job = await self.get_job(job_id)
        now = now_iso()
        async with self._transaction() as db:
            status = await db.fetchval("SELECT status FROM jobs WHERE id = $1 FOR UPDATE", job.id)
            if status in (JobStatus.PENDING.value, JobStatus.QUEUED.value):
                await self._finish(db, job.id, job.scan_id, JobStatus.CANCELLED, "cancelled before it started",
                                   job.output + f"{now[:19]}Z cancelled before it started\n", now)
            elif status == JobStatus.RUNNING.value:
                await db.execute("UPDATE jobs SET cancel_requested = TRUE, updated_at = $1 WHERE id = $2",
                                 now, job.id)
        return await self.get_job(job.id)

    async def set_job_priority(self, job_id: str, priority: int) -> Job:
        if not isinstance(priority, int) or not 1 <= priority <= 10:
            raise InvalidInput(f"invalid priority {priority!r}: use a number from 1 (last) to 10 (first)")
        job = await self.get_job(job_id)
        if job.status.finished:
            raise InvalidInput(f"job {job.short_id} is {job.status.value}: priority only orders waiting jobs")
        async with self._transaction() as db:
            await db.execute("UPDATE jobs SET priority = $1, updated_at = $2 WHERE id = $3",
                             priority, now_iso(), job.id)
        return await self.get_job(job.id)

    async def get_job(self, job_id: str) -> Job:
        return _job((await self._by_prefix(JOB_SELECT, "j.id", job_id, "job", "jobs list"))[0])

    async def job_for_scan(self, scan_id: str) -> Job | None:
        rows = await self._rows(f"{JOB_SELECT} WHERE j.scan_id = $1 ORDER BY j.created_at DESC LIMIT 1", scan_id)
        return _job(rows[0]) if rows else None

    async def find_jobs(
        self, status: str | None = None, host: str | None = None, kind: str | None = None,
        offset: int = 0, limit: int | None = None,
    ) -> tuple[list[Job], int]:
        where, params = [], []
        for clause, value in (("j.status = {}", status), ("h.name = {}", host), ("j.kind = {}", kind)):
            if value is not None:
                params.append(value)
                where.append(clause.format(f"${len(params)}"))
        source = " FROM jobs j JOIN hosts h ON h.id = j.host_id" + (f" WHERE {' AND '.join(where)}" if where else "")
        total = await self._val("SELECT COUNT(*)" + source, *params)
        sql = f"SELECT {_LIST_COLUMNS}{source} ORDER BY j.created_at DESC, j.seq DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [_job(r) for r in await self._rows(sql, *params)], total

    async def job_status_counts(self) -> dict[str, int]:
        rows = await self._rows("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        return {r["status"]: r["n"] for r in rows}
