"""Read models: what the screens and the CLI show, assembled from the store in one place.

Each function reads what one view needs and returns plain data; no UI code builds these
from raw store calls. active_jobs (pending, queued or running anywhere in the store) is what
a view's auto-refresh keys on: it refreshes while any process has work in flight.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from core.content.catalog import SHORT_NAME_TITLES as SHORT_NAME_TITLES  # re-exported for core.ai
from core.content.frameworks import framework_of, profile_name
from core.domain.models import UNFINISHED_JOBS, Host, Job, Scan, ScanStatus
from core.store.base import Store
from core.views.exceptions import apply_to_scans, load_book

JOBS_PAGE = 50


def profile_title(profile: str) -> str:
    """'CIS Level 1 Server' for a short name; the part after _profile_ of an xccdf id."""
    if profile in SHORT_NAME_TITLES:
        return SHORT_NAME_TITLES[profile]
    return profile.rpartition("_profile_")[2] or profile


def profile_label(profile: str) -> str:
    """A trend line's or a comparison's name for a profile, its framework said: 'CIS Level 1 Server',
    'DISA STIG (stig)', 'ANSSI BP-028 (anssi_bp28_high)'."""
    if profile in SHORT_NAME_TITLES:
        return SHORT_NAME_TITLES[profile]
    framework = framework_of(profile)
    name = profile_name(profile)
    return framework.label if framework.label.casefold() == name.casefold() else f"{framework.label} ({name})"


async def active_jobs(store: Store) -> int:
    counts = await store.job_status_counts()
    return sum(counts.get(s.value, 0) for s in UNFINISHED_JOBS)


async def _active_by_host(store: Store) -> dict[str, Job]:
    """Host name -> its running job, else its next waiting one."""
    found: dict[str, Job] = {}
    for status in ("running", "queued", "pending"):
        jobs, _ = await store.find_jobs(status=status)
        for job in reversed(jobs):  # oldest first: the one that runs next
            found.setdefault(job.host_name, job)
    return found


@dataclass
class HostRow:
    host: Host
    latest: Scan | None  # its most recent completed scan
    scans: int
    active: Job | None  # running, else waiting


@dataclass
class HostsView:
    rows: list[HostRow]
    active_jobs: int


async def hosts_view(store: Store, search: str | None = None) -> HostsView:
    latest = await store.latest_completed_scans()
    await apply_to_scans(store, list(latest.values()))
    counts = await store.scan_counts_by_host()
    active = await _active_by_host(store)
    rows = [HostRow(h, latest.get(h.name), counts.get(h.name, 0), active.get(h.name))
            for h in await store.find_hosts(search or None)]
    return HostsView(rows, await active_jobs(store))


@dataclass
class HostScans:
    host: str | None  # the host shown (the one asked for, else the most recently scanned)
    hosts: list[str]
    scans: list[Scan]
    statuses: dict[str, int]
    latest: Scan | None
    trend: list[Scan]  # completed scans since the trend's start, oldest first
    # scan id -> the job that made it, for the scans made by a hardening job or not finished
    jobs: dict[str, Job] = field(default_factory=dict)
    active_jobs: int = 0


async def host_scans(store: Store, host: str | None, status: str | None = None,
                     search: str | None = None, since: str | None = None) -> HostScans:
    hosts = [h.name for h in await store.find_hosts()]
    if host not in hosts:
        recent = await store.find_scans(limit=1)
        host = recent[0].host_name if recent else (hosts[0] if hosts else None)
    active = await active_jobs(store)
    if host is None:
        return HostScans(None, hosts, [], {}, None, [], active_jobs=active)
    scans = await store.find_scans(host=host, status=status, id_prefix=search or None)
    if not search and status in (None, ScanStatus.COMPLETED.value):  # the list holds every completed scan
        done = [s for s in scans if s.status is ScanStatus.COMPLETED]  # newest first, as the store orders
        trend = [s for s in done if since is None or s.created >= since]
        latest = done[0] if done else None
    else:
        trend = await store.find_scans(host=host, status="completed", since=since)
        latest = (await store.latest_completed_scans()).get(host)
    jobs = await store.scan_jobs(host, "harden")  # hardened_points marks these; the rows show the unfinished
    book = await load_book(store)  # scores as shown honour documented exceptions
    shown = {id(s): s for s in scans + trend + ([latest] if latest else [])}  # each scan once
    await apply_to_scans(store, list(shown.values()), book)
    return HostScans(
        host, hosts, scans, await store.scan_status_counts(host), latest,
        sorted(trend, key=lambda s: s.created), jobs, active,
    )


@dataclass
class Fleet:
    hosts: list[Host]
    latest: dict[str, Scan]
    statuses: dict[str, int]
    trend: list[Scan]
    active_jobs: int


async def fleet_view(store: Store, since: str | None = None) -> Fleet:
    trend = await store.find_scans(status="completed", since=since)
    return Fleet(await store.find_hosts(), await store.latest_completed_scans(),
                 await store.scan_status_counts(), sorted(trend, key=lambda s: s.created),
                 await active_jobs(store))


def hardened_points(scans: list[Scan], jobs: dict[str, Job]) -> list[tuple[str, float]]:
    """(time, score) of the scans a hardening job made: the trend marks where fixes ran."""
    return [(s.finished_at or s.created, s.score) for s in scans
            if s.score is not None and s.id in jobs and jobs[s.id].kind == "harden"]


def content_release(scan: Scan) -> str:
    """'SSG 0.1.76': the release of the content a scan used (its file's name when unknown)."""
    if scan.content_version:
        return f"SSG {scan.content_version}"
    return scan.content_file or "unknown content"


def content_name(scan: Scan) -> str:
    """'ssg-ubuntu2204-ds.xml (SSG 0.1.76)': the datastream a scan used and its release."""
    if scan.content_file and scan.content_version:
        return f"{scan.content_file} (SSG {scan.content_version})"
    return content_release(scan)


def content_changes(scans: list[Scan]) -> list[tuple[str, float, str]]:
    """(time, score, release) of each completed scan whose content differs from the scan of its
    profile before it: there a trend line's rules changed, and its scores do not compare."""
    before: dict[str, str | None] = {}
    found: list[tuple[str, float, str]] = []
    for scan in sorted(scans, key=lambda s: s.created):
        if scan.score is None:
            continue
        if scan.profile in before and before[scan.profile] != scan.content_id:
            found.append((scan.finished_at or scan.created, scan.score, content_release(scan)))
        before[scan.profile] = scan.content_id
    return found


def score_series(scans: list[Scan], by: str) -> dict[str, list[tuple[str, float]]]:
    """Completed scans as (finish time, score) lines, one per profile ("profile") or host ("host").

    Scores of different profiles never share a line: a profile's line is named with its framework,
    and a host's line, when its scans span frameworks, is one per framework ("web01 · DISA STIG")."""
    lines: dict[str, list[tuple[str, float]]] = defaultdict(list)
    frameworks: dict[str, set[str]] = defaultdict(set)
    for scan in scans:
        frameworks[scan.host_name].add(framework_of(scan.profile).label)
    for scan in sorted(scans, key=lambda s: s.created):
        if scan.score is not None:
            if by == "profile":
                key = profile_label(scan.profile)
            elif len(frameworks[scan.host_name]) > 1:
                key = f"{scan.host_name} · {framework_of(scan.profile).label}"
            else:
                key = scan.host_name
            lines[key].append((scan.finished_at or scan.created, scan.score))
    return dict(lines)


@dataclass
class JobsPage:
    jobs: list[Job]
    total: int  # matching the filters, in all
    offset: int
    counts: dict[str, int]  # status -> jobs, whatever the filters
    hosts: list[str]
    worker_seen: str | None  # "<time> <owner>" of the last worker heartbeat

    @property
    def active(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in UNFINISHED_JOBS)


async def jobs_page(store: Store, status: str | None = None, host: str | None = None,
                    offset: int = 0, limit: int = JOBS_PAGE) -> JobsPage:
    jobs, total = await store.find_jobs(status=status, host=host, offset=max(0, offset), limit=limit)
    if offset >= total > 0:  # the page went away (jobs were removed): show the last one
        offset = (total - 1) // limit * limit
        jobs, total = await store.find_jobs(status=status, host=host, offset=offset, limit=limit)
    return JobsPage(jobs, total, max(0, offset), await store.job_status_counts(),
                    [h.name for h in await store.find_hosts()], await store.get_meta("worker_heartbeat"))
