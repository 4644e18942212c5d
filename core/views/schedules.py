"""The Schedules screen's and `schedules list`'s read model: each schedule with its next run,
last run and last outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from core.domain.errors import InvalidInput
from core.domain.models import UNFINISHED_JOBS
from core.domain.policy import Schedule
from core.domain.timeutil import parse_iso, to_iso
from core.schedules import cadence as cadences
from core.schedules.service import targets_of
from core.store.base import Store

OUTCOME_ORDER = ("running", "queued", "pending", "completed", "failed", "cancelled")


@dataclass
class ScheduleRow:
    schedule: Schedule
    cadence_text: str  # "weekly on Mon at 02:00"
    next_run: str | None  # UTC ISO; None while paused
    last_run: str | None  # the last slot that ran
    outcome: str  # "3 completed, 1 failed", "never ran", ...
    outcome_counts: dict[str, int] = field(default_factory=dict)
    hosts: int = 0  # hosts it would scan now
    missing: list[str] = field(default_factory=list)  # named hosts that are gone
    problem: str | None = None  # e.g. an unknown zone on this machine

    @property
    def state(self) -> str:
        return "paused" if self.schedule.paused else "active"


@dataclass
class SchedulesView:
    rows: list[ScheduleRow]
    active_jobs: int
    worker_seen: str | None


def outcome_text(counts: dict[str, int], ran: bool) -> str:
    if not ran:
        return "never ran"
    if not counts:
        return "no host to scan"
    return ", ".join(f"{counts[s]} {s}" for s in OUTCOME_ORDER if counts.get(s))


def next_run(schedule: Schedule, now: datetime) -> str | None:
    if schedule.paused:
        return None
    after = max([now] + [parse_iso(t) for t in (schedule.not_before, schedule.last_slot) if t])
    return to_iso(cadences.next_slot(cadences.parse(schedule.cadence), cadences.zone(schedule.tz), after))


async def schedules_view(store: Store, now: datetime | None = None) -> SchedulesView:
    now = now or datetime.now(timezone.utc)
    hosts = await store.find_hosts()
    outcomes = await store.schedule_outcomes()
    rows = []
    for schedule in await store.find_schedules():
        assert schedule.id is not None  # a stored schedule has its id
        chosen, missing = targets_of(schedule, hosts)
        counts = outcomes.get(schedule.id, {})
        row = ScheduleRow(schedule, schedule.cadence, None, schedule.last_slot,
                          outcome_text(counts, schedule.last_slot is not None), counts, len(chosen), missing)
        try:
            row.cadence_text = cadences.parse(schedule.cadence).describe()
            row.next_run = next_run(schedule, now)
        except InvalidInput as exc:
            row.problem = str(exc)
        rows.append(row)
    statuses = await store.job_status_counts()
    active = sum(statuses.get(s.value, 0) for s in UNFINISHED_JOBS)
    return SchedulesView(rows, active, await store.get_meta("worker_heartbeat"))
