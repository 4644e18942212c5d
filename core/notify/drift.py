"""What a schedule's run found, host by host: rules newly failing and newly passing since the
previous completed scan of the same host and profile (core/views/compare.py), the score and its
change (exceptions in force honoured), a scan that did not complete, a host overdue (no completed
scan since before the previous run), and the exceptions covering its hosts that expire soon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from core.domain.errors import InvalidInput
from core.domain.models import Job, JobStatus, Scan, ScanStatus
from core.domain.policy import RuleException, Schedule
from core.store.base import RunToNotify, Store
from core.views.compare import Change, compare_scans, previous_scan
from core.views.exceptions import apply_to_scans, host_tags, load_book, today

EXPIRING_WITHIN = timedelta(days=7)


@dataclass
class HostDrift:
    host: str
    job: Job
    scan: Scan | None = None  # this run's completed scan (score with exceptions honoured)
    previous: Scan | None = None  # the completed scan of the same profile before it
    newly_failing: list[Change] = field(default_factory=list)  # those an exception accepts left out
    newly_passing: list[Change] = field(default_factory=list)
    failed: str | None = None  # why this run's scan did not complete
    overdue_since: str | None = None  # the newest completed scan's time ("" never) when overdue

    @property
    def score(self) -> float | None:
        return self.scan.score if self.scan else None

    @property
    def score_change(self) -> float | None:
        if self.scan is None or self.previous is None or self.scan.score is None or self.previous.score is None:
            return None
        return self.scan.score - self.previous.score


@dataclass
class RunDrift:
    schedule: Schedule
    slot: str
    hosts: list[HostDrift]
    expiring: list[tuple[RuleException, list[str]]]  # each with the run's hosts it covers


async def run_drift(store: Store, schedule: Schedule, run: RunToNotify, jobs: list[Job]) -> RunDrift:
    earlier = [r["slot"] for r in await store.schedule_runs(run.schedule_id) if r["slot"] < run.slot]
    previous_slot = earlier[-1] if earlier else None
    hosts = [await _host_drift(store, job, previous_slot) for job in jobs]
    return RunDrift(schedule, run.slot, hosts, await _expiring(store, [h.host for h in hosts]))


async def _host_drift(store: Store, job: Job, previous_slot: str | None) -> HostDrift:
    found = HostDrift(job.host_name, job)
    scan = await store.get_scan(job.scan_id) if job.scan_id else None
    if job.status is not JobStatus.COMPLETED or scan is None or scan.status is not ScanStatus.COMPLETED:
        found.failed = job.error or f"the job was {job.status.value}"
        if previous_slot is not None:
            newest = await _newest_completed(store, job.host_name, job.profile)
            if newest is None or newest.created < previous_slot:
                found.overdue_since = newest.created if newest else ""
        return found
    try:
        older = await previous_scan(store, scan)
    except InvalidInput:  # the host's first scan of this profile: nothing to compare with
        found.scan = (await apply_to_scans(store, [scan]))[0]
        return found
    comparison = await compare_scans(store, older.id, scan.id)
    found.scan, found.previous = comparison.newer, comparison.older
    found.newly_failing = [c for c in comparison.changes["newly_failing"] if not c.excepted]
    found.newly_passing = comparison.changes["newly_passing"]
    return found


async def _newest_completed(store: Store, host: str, profile: str | None) -> Scan | None:
    for scan in await store.find_scans(host=host, status="completed"):
        if scan.profile == profile:
            return scan
    return None


async def _expiring(store: Store, hosts: list[str], on: date | None = None) -> list[tuple[RuleException, list[str]]]:
    on = on or today()
    book, tags = await load_book(store, on), await host_tags(store)
    soon = [e for e in book.active if date.fromisoformat(e.expires) - on <= EXPIRING_WITHIN]
    found = []
    for exc in sorted(soon, key=lambda e: (e.expires, e.rule_id)):
        covered = [h for h in hosts if exc.covers(h, tags.get(h, ()))]
        if covered:
            found.append((exc, covered))
    return found
