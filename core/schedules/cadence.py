"""When a schedule's scans are due: cadences, their slots, and time zones.

Every cadence is a cron expression underneath (daily 02:00 is `0 2 * * *`), evaluated by
croniter on the wall clock of the schedule's zone; each wall-clock slot is then placed in
that zone with zoneinfo. That is what makes daylight saving time behave:
- a time the clocks skip (02:30 when they jump from 02:00 to 03:00) runs as late as the
  jump (03:30 local), once;
- a time that happens twice (02:30 when they fall back) runs once, at its first occurrence.
A slot is a UTC instant; the store keys enqueueing on (schedule, slot).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from core.domain.errors import InvalidInput

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron's day numbers 0..6
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_LOOKBACK = 400  # slots get_prev may skip (times a DST jump moved past now) before giving up


@dataclass(frozen=True)
class Cadence:
    kind: str  # daily, weekly or cron
    spec: str  # "02:00", "mon@02:00" or the cron expression
    expr: str  # the cron expression it stands for

    @property
    def text(self) -> str:
        """The stored form, which parse() reads back."""
        return f"{self.kind} {self.spec}"

    def describe(self) -> str:
        if self.kind == "daily":
            return f"daily at {self.spec}"
        if self.kind == "weekly":
            day, _, at = self.spec.partition("@")
            return f"weekly on {day.capitalize()} at {at}"
        return f"cron {self.spec}"


def _time(text: str, what: str) -> tuple[int, int]:
    found = _HHMM.match((text or "").strip())
    if not found:
        raise InvalidInput(f"invalid time {text!r} for {what}: give HH:MM, 24-hour, e.g. 02:30")
    return int(found[1]), int(found[2])


def daily(at: str) -> Cadence:
    hour, minute = _time(at, "a daily cadence")
    return Cadence("daily", f"{hour:02d}:{minute:02d}", f"{minute} {hour} * * *")


def weekly(spec: str) -> Cadence:
    day, sep, at = (spec or "").strip().partition("@")
    day = day.strip().lower()[:3]
    if not sep or day not in DAYS:
        raise InvalidInput(f"invalid weekly cadence {spec!r}: give DAY@HH:MM, e.g. mon@02:00 "
                           f"(days: {', '.join(DAYS)})")
    hour, minute = _time(at, "a weekly cadence")
    return Cadence("weekly", f"{day}@{hour:02d}:{minute:02d}", f"{minute} {hour} * * {DAYS.index(day)}")


def cron(expr: str) -> Cadence:
    expr = " ".join((expr or "").split())
    # five fields (or @daily and friends): no seconds field, which would make a slot every second
    if not expr or len(expr.split()) not in (1, 5) or not croniter.is_valid(expr) or (
            len(expr.split()) == 1 and not expr.startswith("@")):
        raise InvalidInput(f"invalid cron expression {expr!r}: give five fields (minute hour day month "
                           "weekday), e.g. '0 2 * * 1-5'")
    return Cadence("cron", expr, expr)


def parse(text: str) -> Cadence:
    """A stored cadence ("daily 02:00", "weekly mon@02:00", "cron 0 2 * * *")."""
    kind, _, spec = (text or "").strip().partition(" ")
    makers = {"daily": daily, "weekly": weekly, "cron": cron}
    if kind not in makers:
        raise InvalidInput(f"unknown cadence {text!r}: use daily HH:MM, weekly DAY@HH:MM or cron EXPR")
    return makers[kind](spec)


def zone(name: str) -> ZoneInfo:
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}: give an IANA name such as UTC, "
                           "Europe/Berlin or America/New_York") from None


def local_zone_name() -> str:
    """This machine's zone (TZ, else /etc/localtime's target, else /etc/timezone), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = str(Path("/etc/localtime").resolve())
        if "/zoneinfo/" in target:
            candidates.append(target.split("/zoneinfo/", 1)[1])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                zone(name)
                return name
            except InvalidInput:
                continue
    return "UTC"


def _place(wall: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time of zone tz as a UTC instant (fold=0: see the module's notes)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def latest_slot(cadence: Cadence, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The last slot at or before now (UTC), or None when there is none in reach."""
    walls = croniter(cadence.expr, _wall(now, tz) + timedelta(microseconds=1))
    for _ in range(_LOOKBACK):
        slot = _place(walls.get_prev(datetime), tz)
        if slot <= now:
            return slot
    return None


def next_slot(cadence: Cadence, tz: ZoneInfo, after: datetime) -> datetime:
    """The first slot strictly after `after` (UTC)."""
    walls = croniter(cadence.expr, _wall(after, tz) - timedelta(hours=3))  # a DST jump moves slots by <= 2 h
    while True:
        slot = _place(walls.get_next(datetime), tz)
        if slot > after:
            return slot


def slots_between(cadence: Cadence, tz: ZoneInfo, start: datetime, end: datetime, limit: int = 1000) -> list[datetime]:
    """Every slot in (start, end], at most limit of them (tests and previews)."""
    found: list[datetime] = []
    slot = next_slot(cadence, tz, start)
    while slot <= end and len(found) < limit:
        if not found or slot > found[-1]:
            found.append(slot)
        slot = next_slot(cadence, tz, slot)
    return found


def due_slot(cadence: Cadence, tz: ZoneInfo, after: datetime, now: datetime) -> datetime | None:
    """The one slot to run now: the latest in (after, now]. Slots missed while nothing ran
    collapse into it: a schedule runs once at the next start, not once per missed slot."""
    slot = latest_slot(cadence, tz, now)
    return slot if slot is not None and slot > after else None
