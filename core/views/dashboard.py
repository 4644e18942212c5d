"""The Dashboard's read model: the fleet at a glance.

Built from three lean reads however big the fleet: the latest completed scan of every host
(one index seek per host), the scores of the last 30 days as plain points (no Scan objects),
and the failed rules of those latest scans. Exceptions are honoured throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from core.content.frameworks import framework_of
from core.domain.errors import InvalidInput
from core.domain.models import UNFINISHED_JOBS, Host, Scan
from core.domain.policy import Book, RuleException, Schedule, expiring
from core.domain.timeutil import parse_iso, to_iso
from core.schedules import cadence as cadences
from core.schedules.service import targets_of
from core.store.base import ScorePoint, Store
from core.views.exceptions import apply_to_points, apply_to_scans

WINDOW_DAYS = 30
RECENT_DAYS = 7
OVERDUE_GRACE = timedelta(hours=2)  # a slot's scans have this long to complete
TOP_RULES = 20
# A host's latest scan older than this (an archive imported from 2012, a host nobody scans any
# more) says nothing of the fleet today: the host is listed after the others, and neither the
# Mean nor the Worst card counts it
STALE_DAYS = 90
FLEET_STEPS = 150  # points of the fleet's line at most: about two per column of a wide chart


@dataclass
class Standing:
    host: Host
    latest: Scan | None  # the latest completed scan, exceptions honoured
    days: list[float | None]  # WINDOW_DAYS daily scores, oldest first (the day's last scan)
    overdue: str | None = None  # the schedule slot (UTC ISO) it has no completed scan for
    stale: bool = False  # latest is older than STALE_DAYS: listed, but not in the mean or the worst


@dataclass
class SpreadRule:
    rule_id: str
    title: str
    severity: str
    hosts: list[str]  # hosts whose latest scan fails it (and no exception accepts it)


# (exceptions, host -> tags, host -> latest scan, now): what dashboard_head read, for dashboard_fill
_Context = tuple[Book, dict[str, tuple[str, ...]], dict[str, Scan], datetime]


@dataclass
class Dashboard:
    standings: list[Standing]  # worst score first; never scanned last
    scanned_recently: int  # hosts with a completed scan in the last RECENT_DAYS days
    never: list[str]
    overdue: list[str]
    mean: float | None
    worst: Standing | None
    fleet: list[tuple[str, float, float]] = field(default_factory=list)  # (time, mean, worst), up to now
    rules: list[SpreadRule] = field(default_factory=list)
    excepted: int = 0  # failures accepted by exceptions in the latest scans
    expiring: list[RuleException] = field(default_factory=list)  # in force, ending within 7 days
    pending_exceptions: int = 0  # requests waiting for a second person's decision
    active_jobs: int = 0
    days: list[str] = field(default_factory=list)  # the window's days, oldest first
    frameworks: list[str] = field(default_factory=list)  # of the hosts' latest scans: more than one, say so
    complete: bool = False  # False: the head only (first paint), days, fleet and rules to come
    _context: _Context | tuple[()] = field(default=(), repr=False)


def _day_index(points: list[ScorePoint], days: list[str]) -> dict[str, dict[int, float]]:
    """host -> day number -> the day's last score (points come oldest first; the store keeps
    UTC times as ISO text, so a point's day is its first ten characters)."""
    number = {day: i for i, day in enumerate(days)}
    found: dict[str, dict[int, float]] = {}
    for point in points:
        day = number.get(point.created_at[:10])
        if day is not None and point.score is not None:
            found.setdefault(point.host, {})[day] = point.score
    return found


def _fleet_line(points: list[ScorePoint], now: datetime) -> list[tuple[str, float, float]]:
    """The fleet's mean and worst score as the window's scans came in (every host's latest score
    so far), taken at most FLEET_STEPS times across the span, whatever the number of scans, and
    held until now: twenty scans of one afternoon make a line, not one point per day."""
    scored = [p for p in points if p.score is not None]  # oldest first
    if not scored:
        return []
    first = parse_iso(scored[0].created_at)
    step = max((now - first) / FLEET_STEPS, timedelta(seconds=1))
    current: dict[str, float] = {}
    line: list[tuple[str, float, float]] = []
    boundary = to_iso(first + step)  # ISO UTC times compare as text: no parsing per point
    for previous, point in zip([None, *scored], scored):
        if previous is not None and point.created_at >= boundary:
            line.append(_fleet_point(previous.created_at, current))
            boundary = to_iso(first + step * ((parse_iso(point.created_at) - first) // step + 1))
        assert point.score is not None  # scored
        current[point.host] = point.score
    line.append(_fleet_point(scored[-1].created_at, current))
    if to_iso(now) > scored[-1].created_at:
        line.append(_fleet_point(to_iso(now), current))
    return line


def _fleet_point(at: str, scores: dict[str, float]) -> tuple[str, float, float]:
    values = scores.values()
    return at, round(sum(values) / len(values), 1), min(values)


def _overdue(schedules: Iterable[Schedule], hosts: list[Host], latest: dict[str, Scan], now: datetime) -> dict[str, str]:
    """host -> the slot it missed: a schedule covering it had a slot over OVERDUE_GRACE ago and
    the host has no completed scan created since."""
    found: dict[str, str] = {}
    for schedule in schedules:
        if schedule.paused:
            continue
        try:
            slot = cadences.latest_slot(cadences.parse(schedule.cadence), cadences.zone(schedule.tz),
                                        now - OVERDUE_GRACE)
        except InvalidInput:
            continue
        assert schedule.not_before is not None  # NOT NULL in the store
        if slot is None or slot <= parse_iso(schedule.not_before):
            continue
        due = to_iso(slot)
        for host in targets_of(schedule, hosts)[0]:
            scan = latest.get(host.name)
            if (scan is None or scan.created < due) and due > found.get(host.name, ""):
                found[host.name] = due
    return found


async def _spread(store: Store, latest: dict[str, Scan], rules_of: Callable[[str], Container[str]],
                  ) -> list[SpreadRule]:
    host_of = {s.id: name for name, s in latest.items()}
    failing: dict[str, list[str]] = {}
    for scan_id, rule_id in await store.results_of(list(host_of), "fail"):
        host = host_of[scan_id]
        if rule_id not in rules_of(host):
            failing.setdefault(rule_id, []).append(host)
    top = sorted(failing.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP_RULES]
    titles = await store.rule_titles([rule for rule, _ in top])
    return [SpreadRule(rule, *titles.get(rule, ("", "unknown")), sorted(found)) for rule, found in top]


def _rank(standing: Standing) -> tuple[int, float, str]:
    """Worst score first; then hosts whose latest scan is stale, worst first; then no score."""
    scan = standing.latest
    if scan is None or scan.score is None:
        return (2, 0.0, standing.host.name)
    return (1 if standing.stale else 0, scan.score, standing.host.name)


def _score(standing: Standing) -> float:
    """The score of a standing among the scored ones."""
    assert standing.latest is not None and standing.latest.score is not None
    return standing.latest.score


async def dashboard_head(store: Store, now: datetime | None = None) -> Dashboard:
    """What the first paint shows: every host with its latest scan, the counts, mean and worst
    (no sparklines, fleet line or rules yet: dashboard_fill adds them)."""
    now = now or datetime.now(timezone.utc)
    hosts = await store.find_hosts()
    tags = {h.name: h.tags for h in hosts}
    exceptions = await store.find_exceptions()
    book = Book.of(exceptions, now.date())
    latest = await store.latest_completed_scans()
    await apply_to_scans(store, list(latest.values()), book, tags)
    overdue = _overdue(await store.find_schedules(), hosts, latest, now)
    stale = to_iso(now - timedelta(days=STALE_DAYS))
    standings = [Standing(h, latest.get(h.name), [None] * WINDOW_DAYS, overdue.get(h.name),
                          h.name in latest and latest[h.name].created < stale) for h in hosts]
    standings.sort(key=_rank)
    scored = [s for s in standings if s.latest is not None and s.latest.score is not None and not s.stale]
    recent = to_iso(now - timedelta(days=RECENT_DAYS))
    statuses = await store.job_status_counts()
    first = (now - timedelta(days=WINDOW_DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    board = Dashboard(
        standings=standings,
        scanned_recently=sum(1 for s in latest.values() if s.created >= recent),
        never=[h.name for h in hosts if h.name not in latest],
        overdue=sorted(overdue),
        mean=round(sum(_score(s) for s in scored) / len(scored), 1) if scored else None,
        worst=scored[0] if scored else None,
        excepted=sum(s.excepted for s in latest.values()),
        expiring=expiring(exceptions, now.date()),
        pending_exceptions=sum(1 for e in exceptions if e.status == "pending"),
        active_jobs=sum(statuses.get(s.value, 0) for s in UNFINISHED_JOBS),
        days=[(first + timedelta(days=i)).date().isoformat() for i in range(WINDOW_DAYS)],
        frameworks=[f.label for f in sorted({framework_of(s.profile) for s in latest.values()})],
    )
    board._context = (book, tags, latest, now)
    return board


async def dashboard_fill(store: Store, board: Dashboard) -> Dashboard:
    """The head with each host's 30 days, the fleet's line and the most failed rules."""
    if not board._context:
        raise ValueError("dashboard_fill completes what dashboard_head made")
    book, tags, latest, now = board._context
    since = f"{board.days[0]}T00:00:00.000000Z"
    points = await apply_to_points(store, await store.score_points(since), since, book, tags)
    by_host = _day_index(points, board.days)
    for standing in board.standings:
        days = by_host.get(standing.host.name, {})
        standing.days = [days.get(i) for i in range(WINDOW_DAYS)]
    accepted = {h: book.for_host(h, t) for h, t in tags.items()} if book.active else {}
    board.fleet = _fleet_line(points, now)
    board.rules = await _spread(store, latest, lambda host: accepted.get(host, {}))
    board.complete = True
    return board


async def dashboard_view(store: Store, now: datetime | None = None) -> Dashboard:
    return await dashboard_fill(store, await dashboard_head(store, now))
