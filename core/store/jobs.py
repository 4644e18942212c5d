"""The job queue's queries (JobStore in base.py), for both backends.

A claim is one transaction: the next waiting job is picked (on PostgreSQL row-locked with FOR
UPDATE SKIP LOCKED, so claimers on many machines never wait for each other and never take the
same job; on SQLite BEGIN IMMEDIATE lets one writer in at a time across every process). A job
that changes its host must not start beside another job of that host: the claim takes an
advisory lock on the host (shared for a scan, exclusive for a hardening job, never waiting: a
busy host's job is skipped for now) and then checks the running jobs again in a fresh
statement, which under READ COMMITTED sees every claim committed before the lock was granted.

Leases are ISO times (they sort as text); a process renews its leases while it works, and
whoever sees a lease run out re-queues or fails the job, whichever machine it ran on.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import HOST_CHANGING_KINDS, RERUNNABLE_KINDS, UNFINISHED_JOBS, Host, Job, JobStatus
from core.domain.timeutil import now_iso
from core.store.base import Expired, JobStore, NewScanJob
from core.store.db import Db, Row, by_prefix, chunks, marks

JOB_SELECT = "SELECT j.*, h.name AS host_name FROM jobs j JOIN hosts h ON h.id = j.host_id"
_LIST_COLUMNS = (  # only the end of the output log: a list shows its last lines
    "j.id, j.kind, j.host_id, j.params, j.priority, j.status, j.created_at, j.started_at, "
    "j.finished_at, j.attempts, j.error, "
    "CASE WHEN length(j.output) > 240 THEN substr(j.output, length(j.output) - 239) ELSE j.output END AS output, "
    "j.scan_id, j.lease_owner, j.lease_until, j.cancel_requested, j.progress_done, j.progress_total, j.current, "
    "j.current_since, j.result, h.name AS host_name"
)
_CHANGING = "(" + ", ".join(f"'{k}'" for k in sorted(HOST_CHANGING_KINDS) or [""]) + ")"
_UNFINISHED = "(" + ", ".join(f"'{s.value}'" for s in UNFINISHED_JOBS) + ")"
# the partial index jobs_waiting gives the order; jobs_running answers the host test
_CANDIDATE = (
    "SELECT j.id, j.host_id, j.kind FROM jobs j WHERE j.status IN ('pending', 'queued') "
    "AND ((j.status = 'queued' AND j.lease_owner = ?) OR (? AND j.status = 'pending' "
    "  AND (SELECT z.zone FROM hosts z WHERE z.id = j.host_id) {same} ?)) "
    "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.status = 'running' AND r.host_id = j.host_id "
    f"  AND (r.kind IN {_CHANGING} OR j.kind IN {_CHANGING}))"
)
MAX_ATTEMPTS = 2  # a job whose worker died runs once more, where that is safe
HOST_LOCK = 0x43540018  # advisory lock namespace: (HOST_LOCK, host id) while a claim decides
CLAIM_TRIES = 8  # candidates skipped for a busy host before this claim gives up (the next poll retries)


def job_of(row: Row | None) -> Job:
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


async def jobs_by_id(db: Db, ids: list[str]) -> list[Job]:
    """These jobs, in this order."""
    found: dict[str, Job] = {}
    for part in chunks(db, ids):
        among, params = db.dialect.among("j.id", part)
        found |= {r["id"]: job_of(r) for r in await db.fetch(f"{JOB_SELECT} WHERE {among}", params)}
    return [found[i] for i in ids]


async def insert_scan_jobs(db: Db, wanted: list[NewScanJob], owner: str | None, lease_until: str | None) -> list[str]:
    """The scans and jobs of create_scan_jobs, inside the caller's transaction (schedules.py's too)."""
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
    await db.execute_many("INSERT INTO scans (id, host_id, profile, status, created_at, updated_at) "
                          "VALUES (?, ?, ?, 'pending', ?, ?)", scans)
    await db.execute_many(
        "INSERT INTO jobs (id, kind, host_id, params, priority, status, created_at, scan_id, lease_owner, "
        "lease_until, updated_at) VALUES (?, 'scan', ?, ?, ?, ?, ?, ?, ?, ?, ?)", jobs)
    return [j[0] for j in jobs]


class Jobs(JobStore):
    db: Db

    async def create_scan_jobs(
        self, wanted: list[NewScanJob], owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job]:
        async with self.db.transaction() as db:
            ids = await insert_scan_jobs(db, wanted, owner, lease_until)
        return await jobs_by_id(self.db, ids)

    async def create_harden_job(self, host: Host, params: dict[str, Any], priority: int,
                                owner: str | None = None, lease_until: str | None = None) -> Job:
        now, job_id = now_iso(), str(uuid.uuid4())
        status = JobStatus.QUEUED if owner else JobStatus.PENDING
        async with self.db.transaction() as db:
            if db.dialect.row_lock:  # the host row's lock makes two processes asking at once take turns
                await db.execute(f"SELECT 1 FROM hosts WHERE id = ?{db.dialect.lock()}", (host.id,))
            busy = await db.fetch_value(
                f"SELECT id FROM jobs WHERE host_id = ? AND kind = 'harden' AND status IN {_UNFINISHED}", (host.id,))
            if busy:
                raise InvalidInput(f"{host.name} has a hardening job already ({busy[:8]}): one at a "
                                   "time per host; wait for it or cancel it (compliance-tui jobs cancel)")
            await db.execute(
                "INSERT INTO jobs (id, kind, host_id, params, priority, status, created_at, lease_owner, "
                "lease_until, updated_at) VALUES (?, 'harden', ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, host.id, json.dumps(params), priority, status.value, now, owner,
                 lease_until if owner else None, now))
        return await self.get_job(job_id)

    async def add_job_scan(self, job_id: str, profile: str) -> str:
        scan_id, now = str(uuid.uuid4()), now_iso()
        async with self.db.transaction() as db:
            host_id = await db.fetch_value("SELECT host_id FROM jobs WHERE id = ? AND status = 'running'", (job_id,))
            if host_id is None:
                raise InvalidInput(f"job {job_id[:8]} is not running")
            await db.execute(
                "INSERT INTO scans (id, host_id, profile, status, created_at, started_at, updated_at) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)", (scan_id, host_id, profile, now, now, now))
            await db.execute("UPDATE jobs SET scan_id = ?, progress_done = 0, progress_total = NULL, "
                             "updated_at = ? WHERE id = ?", (scan_id, now, job_id))
        return scan_id

    async def set_job_result(self, job_id: str, result: dict[str, Any]) -> None:
        await self.db.execute("UPDATE jobs SET result = ?, updated_at = ? WHERE id = ?",
                              (json.dumps(result), now_iso(), job_id))

    async def append_to_finished_jobs(self, job_ids: list[str], text: str) -> None:
        for part in chunks(self.db, job_ids):
            among, values = self.db.dialect.among("id", part)
            await self.db.execute(f"UPDATE jobs SET output = output || ? WHERE {among} "
                                  "AND status IN ('completed', 'failed', 'cancelled')", [text, *values])

    async def claim_job(self, owner: str, lease_until: str, take_pending: bool,
                        zone: str | None = None) -> Job | None:
        now = now_iso()
        async with self.db.transaction() as db:
            job_id = await _claimable(db, owner, take_pending, zone)
            if job_id is None:
                return None
            scan_id = await db.fetch_value(
                "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, started_at = ?, "
                "attempts = attempts + 1, progress_done = 0, current = NULL, updated_at = ? WHERE id = ? "
                "RETURNING scan_id", (owner, lease_until, now, now, job_id))
            if scan_id:
                await db.execute(
                    "UPDATE scans SET status = 'running', started_at = ?, progress_done = 0, "
                    "error_message = NULL, updated_at = ? WHERE id = ?", (now, now, scan_id))
            return job_of(await db.fetch_one(f"{JOB_SELECT} WHERE j.id = ?", (job_id,)))

    async def renew_leases(self, owner: str, lease_until: str) -> set[str]:
        async with self.db.transaction() as db:
            rows = await db.fetch("UPDATE jobs SET lease_until = ? WHERE lease_owner = ? AND status IN "
                                  "('queued', 'running') RETURNING id, cancel_requested", (lease_until, owner))
        return {r["id"] for r in rows if r["cancel_requested"]}

    async def release_jobs(self, owner: str, job_ids: list[str] | None = None) -> int:
        now = now_iso()
        note = f"{now[:19]}Z released by {owner}: it stopped before finishing; back in the queue\n"
        if job_ids is None:
            where, params = "lease_owner = ? AND status = 'queued'", [owner]
        else:
            among, ids = self.db.dialect.among("id", job_ids)
            where, params = f"lease_owner = ? AND status IN ('queued', 'running') AND {among}", [owner, *ids]
        async with self.db.transaction() as db:
            rows = await db.fetch(f"SELECT id, scan_id FROM jobs WHERE {where}{db.dialect.lock()}", params)
            for row in rows:
                await _requeue(db, row["id"], row["scan_id"], note, now)
        return len(rows)

    async def expire_leases(self, now: str) -> list[Expired]:
        expired = []
        async with self.db.transaction() as db:
            # SKIP LOCKED: a job another process is finishing or recovering right now is its business
            rows = await db.fetch(f"{JOB_SELECT} WHERE j.status IN ('queued', 'running') AND j.lease_until < ?"
                                  f"{db.dialect.lock('j', skip_locked=True)}", (now,))
            for row in rows:
                job = job_of(row)
                stamp = f"{now[:19]}Z"
                if job.status is JobStatus.QUEUED or (
                        job.kind in RERUNNABLE_KINDS and job.attempts < MAX_ATTEMPTS and not job.cancel_requested):
                    await _requeue(db, job.id, job.scan_id, f"{stamp} {job.lease_owner} stopped (lease "
                                   "expired); re-queued\n", now)
                    expired.append(Expired(job, True))
                    continue
                reason = "worker stopped (lease expired)" + (
                    "; the host's dead man's switch restores /etc" if job.kind == "harden" else "")
                await _finish(db, job.id, job.scan_id, JobStatus.FAILED, reason,
                              job.output + f"{stamp} {job.lease_owner} stopped (lease expired)\n", now)
                expired.append(Expired(job, False))
        return expired

    async def record_progress(
        self, job_id: str, done: int, total: int | None, current: str | None,
        current_since: str | None, output: str,
    ) -> None:
        now = now_iso()
        async with self.db.transaction() as db:
            scan_id = await db.fetch_value(
                "UPDATE jobs SET progress_done = ?, progress_total = COALESCE(?, progress_total), current = ?, "
                "current_since = ?, output = ?, updated_at = ? WHERE id = ? AND status = 'running' "
                "RETURNING scan_id", (done, total, current, current_since, output, now, job_id))
            if scan_id:
                await db.execute("UPDATE scans SET progress_done = ?, updated_at = ? WHERE id = ? "
                                 "AND status = 'running'", (done, now, scan_id))

    async def finish_job(self, job_id: str, status: str, error: str | None = None,
                         output: str | None = None, finished_at: str | None = None) -> Job:
        status = JobStatus(status)
        if not status.finished:
            raise ValueError(f"not an end state: {status}")
        job = await self.get_job(job_id)
        async with self.db.transaction() as db:
            await _finish(db, job.id, job.scan_id, status, error, output, finished_at or now_iso())
        return await self.get_job(job.id)

    async def cancel_job(self, job_id: str) -> Job:
        job = await self.get_job(job_id)
        now = now_iso()
        async with self.db.transaction() as db:
            # read again in the transaction: the job may have started since
            status = await db.fetch_value(f"SELECT status FROM jobs WHERE id = ?{db.dialect.lock()}", (job.id,))
            if status in (JobStatus.PENDING.value, JobStatus.QUEUED.value):
                await _finish(db, job.id, job.scan_id, JobStatus.CANCELLED, "cancelled before it started",
                              job.output + f"{now[:19]}Z cancelled before it started\n", now)
            elif status == JobStatus.RUNNING.value:
                await db.execute("UPDATE jobs SET cancel_requested = TRUE, updated_at = ? WHERE id = ? "
                                 "AND status = 'running'", (now, job.id))
        return await self.get_job(job.id)

    async def set_job_priority(self, job_id: str, priority: int) -> Job:
        if not isinstance(priority, int) or not 1 <= priority <= 10:
            raise InvalidInput(f"invalid priority {priority!r}: use a number from 1 (last) to 10 (first)")
        job = await self.get_job(job_id)
        if job.status.finished:
            raise InvalidInput(f"job {job.short_id} is {job.status.value}: priority only orders waiting jobs")
        await self.db.execute("UPDATE jobs SET priority = ?, updated_at = ? WHERE id = ?",
                              (priority, now_iso(), job.id))
        return await self.get_job(job.id)

    async def get_job(self, job_id: str) -> Job:
        return job_of(await by_prefix(self.db, JOB_SELECT, "j.id", job_id, "job", "jobs list"))

    async def job_for_scan(self, scan_id: str) -> Job | None:
        row = await self.db.fetch_one(f"{JOB_SELECT} WHERE j.scan_id = ? ORDER BY j.created_at DESC LIMIT 1",
                                      (scan_id,))
        return job_of(row) if row else None

    async def find_jobs(
        self, status: str | None = None, host: str | None = None, kind: str | None = None,
        offset: int = 0, limit: int | None = None,
    ) -> tuple[list[Job], int]:
        where, params = [], []
        for clause, value in (("j.status = ?", status), ("h.name = ?", host), ("j.kind = ?", kind)):
            if value is not None:
                where.append(clause)
                params.append(value)
        source = " FROM jobs j JOIN hosts h ON h.id = j.host_id" + (f" WHERE {' AND '.join(where)}" if where else "")
        total = await self.db.fetch_value("SELECT COUNT(*)" + source, params)
        sql = f"SELECT {_LIST_COLUMNS}{source} ORDER BY j.created_at DESC, j.{self.db.dialect.creation_order} DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [job_of(r) for r in await self.db.fetch(sql, params)], total

    async def scan_jobs(self, host: str, kind: str) -> dict[str, Job]:
        rows = await self.db.fetch(
            f"SELECT {_LIST_COLUMNS} FROM jobs j JOIN hosts h ON h.id = j.host_id JOIN scans s ON s.id = j.scan_id "
            "WHERE h.name = ? AND (j.kind = ? OR s.status IN ('pending', 'running')) "
            f"ORDER BY j.created_at DESC, j.{self.db.dialect.creation_order} DESC", (host, kind))
        return {r["scan_id"]: job_of(r) for r in rows}  # one job makes a scan (the oldest kept, as ever)

    async def job_status_counts(self) -> dict[str, int]:
        rows = await self.db.fetch("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        return {r["status"]: r["n"] for r in rows}


async def _claimable(db: Db, owner: str, take_pending: bool, zone: str | None) -> str | None:
    """The id of the job this claim may start, locked for it, or None."""
    skipped: list[str] = []
    for _ in range(CLAIM_TRIES):
        sql = _CANDIDATE.format(same=db.dialect.same) + (f" AND j.id NOT IN ({marks(skipped)})" if skipped else "")
        found = await db.fetch_one(
            f"{sql} ORDER BY j.priority DESC, j.created_at, j.{db.dialect.creation_order} LIMIT 1"
            f"{db.dialect.lock('j', skip_locked=True)}", [owner, take_pending, zone, *skipped])
        if found is None:
            return None
        changes_host = found["kind"] in HOST_CHANGING_KINDS
        others = "" if changes_host else f" AND kind IN {_CHANGING}"  # a scan minds only host-changing jobs
        if await db.try_advisory_lock(HOST_LOCK, found["host_id"], shared=not changes_host) and not \
                await db.fetch_value(f"SELECT 1 FROM jobs WHERE status = 'running' AND host_id = ?{others}",
                                     (found["host_id"],)):
            job_id: str = found["id"]
            return job_id
        skipped.append(found["id"])
    return None


async def _requeue(db: Db, job_id: str, scan_id: str | None, note: str, now: str) -> None:
    await db.execute(
        "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_until = NULL, started_at = NULL, "
        "progress_done = 0, current = NULL, current_since = NULL, output = output || ?, "
        "updated_at = ? WHERE id = ?", (note, now, job_id))
    if scan_id:
        await db.execute(
            "UPDATE scans SET status = 'pending', started_at = NULL, progress_done = 0, updated_at = ? "
            "WHERE id = ? AND status IN ('pending', 'running')", (now, scan_id))


async def _finish(db: Db, job_id: str, scan_id: str | None, status: JobStatus, error: str | None,
                  output: str | None, now: str) -> None:
    ended = await db.execute(
        "UPDATE jobs SET status = ?, error = ?, finished_at = ?, output = COALESCE(?, output), "
        f"lease_until = NULL, current = NULL, updated_at = ? WHERE id = ? AND status IN {_UNFINISHED}",
        (status.value, error, now, output, now, job_id))
    if ended and scan_id and status is not JobStatus.COMPLETED:
        await db.execute(
            "UPDATE scans SET status = 'failed', error_message = ?, finished_at = ?, updated_at = ? "
            "WHERE id = ? AND status IN ('pending', 'running')", (error, now, now, scan_id))
