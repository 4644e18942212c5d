"""Schedules: create, edit, pause, resume and delete recurring scans, and enqueue the due ones.

enqueue_due() is what the worker (and the TUI while open) calls every few seconds. Each due
slot is taken and its scan jobs created in one store transaction keyed by schedule and slot,
so however many processes call it at once, a slot is enqueued once. A schedule that missed
slots while nothing ran gets one run, for its latest slot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.audit.log import record, record_many
from core.content import tailoring
from core.content.catalog import validate_profile
from core.domain.errors import InvalidInput
from core.domain.events import JobEvent
from core.domain.models import DEFAULT_PRIORITY, Host, Job
from core.domain.notify_settings import check_target_name
from core.domain.policy import Schedule, check_tag
from core.domain.timeutil import now_iso, parse_iso, to_iso
from core.schedules import cadence as cadences
from core.store.base import NewScanJob
from core.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Who a schedule scans: hosts by name, every host, or the hosts with a tag."""

    kind: str
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, hosts: list[str] | str | None = None, all_hosts: bool = False, tag: str | None = None) -> "Target":
        if isinstance(hosts, str):
            hosts = [h for h in hosts.replace(",", " ").split() if h]
        given = sum(bool(x) for x in (hosts, all_hosts, tag))
        if given != 1:
            flags = "--hosts NAME[,NAME...], --all or --tag TAG"
            raise InvalidInput(f"give the schedule's target: {flags}", field="schedule.target", cli=flags)
        if all_hosts:
            return cls("all")
        if tag:
            return cls("tag", (check_tag(tag.strip().lower()),))
        assert hosts  # the one target given
        return cls("hosts", tuple(dict.fromkeys(hosts)))


def _priority(value: int | str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 10:
        raise InvalidInput(f"invalid priority {value!r}: use a number from 1 (last) to 10 (first)")
    return number


async def _check_target(workspace: Workspace, target: Target) -> None:
    if target.kind == "hosts":
        for name in target.names:
            await workspace.store.require_host(name)


def notify_names(names: list[str] | str | None) -> tuple[str, ...]:
    """Notification target names, from a list or "a,b" (their URLs: core/notify/targets.py)."""
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    return tuple(dict.fromkeys(check_target_name(n, "--notify") for n in names or ()))


async def add_schedule(
    workspace: Workspace, target: Target, profile: str, cadence: cadences.Cadence, tz: str | None = None,
    tailoring_file: Path | None = None, priority: int | str = DEFAULT_PRIORITY,
    notify: tuple[str, ...] = (), heartbeat: bool = False,
) -> Schedule:
    """A new schedule; its first run is its first slot from now on."""
    validate_profile(profile)
    zone = tz or cadences.local_zone_name()
    cadences.zone(zone)
    await _check_target(workspace, target)
    kept = str(tailoring.keep_copy(workspace.data_dir, tailoring_file).path) if tailoring_file else None
    added = await workspace.store.add_schedule(Schedule(
        target.kind, target.names, profile, cadence.text, zone, kept, priority=_priority(priority),
        notify=notify, heartbeat=heartbeat))
    await record(workspace, "schedule.added", added.id or "", _audited(added))
    return added


def _audited(schedule: Schedule) -> dict[str, Any]:
    """What a schedule's log entries say of it."""
    return {"target": schedule.target_text(), "profile": schedule.profile, "cadence": schedule.cadence,
            "tz": schedule.tz, "priority": schedule.priority, "tailoring": schedule.tailoring,
            "notify": list(schedule.notify), "heartbeat": schedule.heartbeat}


async def edit_schedule(
    workspace: Workspace, schedule_id: str, *, target: Target | None = None, profile: str | None = None,
    cadence: cadences.Cadence | None = None, tz: str | None = None, tailoring_file: Path | None = None,
    clear_tailoring: bool = False, priority: int | str | None = None,
    notify: tuple[str, ...] | None = None, heartbeat: bool | None = None,
) -> Schedule:
    """Change what is given; the next run follows the new cadence from now on (a changed
    cadence does not make up for slots the old one would have had)."""
    schedule = await workspace.store.get_schedule(schedule_id)
    changes: dict[str, Any] = {}  # fields of Schedule
    if target is not None:
        await _check_target(workspace, target)
        changes |= {"target_kind": target.kind, "targets": target.names}
    if profile is not None:
        validate_profile(profile)
        changes["profile"] = profile
    if cadence is not None or tz is not None:
        if tz is not None:
            cadences.zone(tz)
            changes["tz"] = tz
        if cadence is not None:
            changes["cadence"] = cadence.text
        changes["not_before"] = now_iso()
    if tailoring_file is not None:
        changes["tailoring"] = str(tailoring.keep_copy(workspace.data_dir, tailoring_file).path)
    elif clear_tailoring:
        changes["tailoring"] = None
    if priority is not None:
        changes["priority"] = _priority(priority)
    if notify is not None:
        changes["notify"] = notify
    if heartbeat is not None:
        changes["heartbeat"] = heartbeat
    saved = await workspace.store.update_schedule(replace(schedule, **changes))
    before, after = _audited(schedule), _audited(saved)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        await record(workspace, "schedule.edited", saved.id or "", {"changed": changed})
    return saved


async def set_paused(workspace: Workspace, schedule_id: str, paused: bool) -> Schedule:
    """Pause, or resume: a resumed schedule runs from its next slot on, not for the slots it
    slept through."""
    schedule = await workspace.store.get_schedule(schedule_id)
    if schedule.paused == paused:
        return schedule
    changes: dict[str, Any] = {"paused": paused} | ({} if paused else {"not_before": now_iso()})
    saved = await workspace.store.update_schedule(replace(schedule, **changes))
    await record(workspace, "schedule.paused" if paused else "schedule.resumed", saved.id or "",
                 {"target": saved.target_text(), "profile": saved.profile})
    return saved


async def remove_schedule(workspace: Workspace, schedule_id: str) -> Schedule:
    removed = await workspace.store.remove_schedule(schedule_id)
    await record(workspace, "schedule.removed", removed.id or "", _audited(removed))
    return removed


async def resolve_targets(workspace: Workspace, schedule: Schedule) -> tuple[list[Host], list[str]]:
    """The hosts a schedule scans now, and the named hosts that no longer exist."""
    return targets_of(schedule, await workspace.store.find_hosts())


def targets_of(schedule: Schedule, hosts: list[Host]) -> tuple[list[Host], list[str]]:
    if schedule.target_kind == "all":
        return hosts, []
    if schedule.target_kind == "tag":
        return [h for h in hosts if schedule.targets[0] in h.tags], []
    by_name = {h.name: h for h in hosts}
    return ([by_name[n] for n in schedule.targets if n in by_name],
            [n for n in schedule.targets if n not in by_name])


def due(schedule: Schedule, now: datetime) -> datetime | None:
    """The slot this schedule should run now, or None."""
    if schedule.paused:
        return None
    after = max(parse_iso(t) for t in (schedule.not_before, schedule.last_slot) if t)
    return cadences.due_slot(cadences.parse(schedule.cadence), cadences.zone(schedule.tz), after, now)


@dataclass(frozen=True)
class Enqueued:
    schedule: Schedule
    slot: str
    jobs: list[Job]
    missing: list[str]  # named hosts that are gone


async def enqueue_due(workspace: Workspace, enqueued_by: str, now: datetime | None = None,
                      owner: str | None = None, lease_until: str | None = None) -> list[Enqueued]:
    """Enqueue every schedule's due slot, once across all processes. Jobs are pending for any
    worker, or queued for owner (the TUI runs them itself when no worker is alive), except those
    of hosts in a zone: they are pending for that zone's worker."""
    now = now or datetime.now(timezone.utc)
    done = []
    for schedule in await workspace.store.find_schedules():
        try:
            slot = due(schedule, now)
        except InvalidInput as exc:  # a zone this machine's tzdata lacks: say so, skip it
            log.warning("schedule %s: %s", schedule.short_id, exc)
            continue
        if slot is None:
            continue
        assert schedule.id is not None  # a stored schedule has its id
        hosts, missing = await resolve_targets(workspace, schedule)
        params = {"tailoring": schedule.tailoring} if schedule.tailoring else {}
        # a zone's host waits for its zone's worker, even when a TUI runs the others itself
        wanted = [NewScanJob(h, schedule.profile, dict(params), schedule.priority, for_workers=bool(h.zone))
                  for h in hosts]
        jobs = await workspace.store.enqueue_schedule_slot(schedule.id, to_iso(slot), wanted, enqueued_by,
                                                           owner, lease_until if owner else None)
        if jobs is None:
            continue  # another process took this slot first
        await record_many(workspace, [("scan.started", job.host_name, {
            "job": job.id, "profile": schedule.profile, "schedule": schedule.id, "slot": to_iso(slot)}) for job in jobs])
        for job in jobs:
            workspace.hub.publish(JobEvent("created", job))
        done.append(Enqueued(schedule, to_iso(slot), jobs, missing))
    return done
