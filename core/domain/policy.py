"""What an operator decides about the fleet: host tags, recurring scans (schedules) and
documented exceptions (failed rules accepted for a business reason, until a date).

Pure data and rules; the store keeps them, core/schedules and core/policy act on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from core.domain.errors import InvalidInput
from core.domain.models import SCORED_BAD, compute_score

TAG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
RULE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
SSG_RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"
TARGET_KINDS = ("hosts", "all", "tag")
SCOPES = ("host", "tag", "all")
MAX_REASON = 500


def parse_tags(text: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """'web, prod' or ['web', 'prod'] -> ('prod', 'web'): lowercase, sorted, each once."""
    if text is None:
        return ()
    words = text.replace(",", " ").split() if isinstance(text, str) else [
        w for part in text for w in part.replace(",", " ").split()]
    tags = sorted({w.strip().lower() for w in words if w.strip()})
    for tag in tags:
        check_tag(tag)
    return tuple(tags)


def check_tag(tag: str) -> str:
    if not TAG.match(tag or ""):
        raise InvalidInput(f"invalid tag {tag!r}: use lowercase letters, digits, '.', '_' and '-' "
                           "(at most 32), starting with a letter or digit")
    return tag


def parse_zone(text: str | None) -> str | None:
    """A network zone name as tags are written ('' or None: no zone)."""
    zone = (text or "").strip().lower()
    if not zone:
        return None
    if not TAG.match(zone):
        raise InvalidInput(f"invalid zone {text!r}: use lowercase letters, digits, '.', '_' and '-' "
                           "(at most 32), starting with a letter or digit")
    return zone


def full_rule_id(rule_id: str) -> str:
    """A rule id as results carry it: SSG's short form gets its prefix."""
    rule_id = (rule_id or "").strip()
    if not RULE_ID.match(rule_id):
        raise InvalidInput(f"invalid rule id {rule_id!r}: give the rule's XCCDF id, e.g. "
                           f"{SSG_RULE_PREFIX}sshd_disable_root_login, or its part after _rule_")
    return rule_id if rule_id.startswith("xccdf_") else SSG_RULE_PREFIX + rule_id


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(f"invalid date {text!r}: give YYYY-MM-DD, e.g. 2025-12-31") from None


@dataclass
class Schedule:
    """Recurring scans: a target, a profile and a cadence in a time zone."""

    target_kind: str  # hosts, all or tag
    targets: tuple[str, ...]  # host names (hosts) or the one tag (tag); empty for all
    profile: str
    cadence: str  # stored form: "daily 02:00", "weekly mon@02:00" or "cron <expr>"
    tz: str  # IANA zone, e.g. Europe/Berlin
    tailoring: str | None = None  # our copy of the tailoring file
    paused: bool = False
    priority: int = 5
    id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    not_before: str | None = None  # slots up to here never run (creation, resume)
    last_slot: str | None = None  # the last slot enqueued (UTC ISO)
    last_run_at: str | None = None  # when it was enqueued
    last_jobs: int = 0  # how many jobs that run made
    notify: tuple[str, ...] = ()  # notification target names (core/notify/targets.py), besides [notify]'s
    heartbeat: bool = False  # tell of every run, even one where nothing changed

    @property
    def short_id(self) -> str:
        return (self.id or "")[:8]

    def target_text(self) -> str:
        if self.target_kind == "all":
            return "all hosts"
        if self.target_kind == "tag":
            return f"tag {self.targets[0]}"
        return ", ".join(self.targets)


STATUSES = ("pending", "approved", "rejected", "revoked")
EXPIRING_DAYS = 7  # an exception in force that ends within this many days is shown on the Dashboard


@dataclass
class RuleException:
    """A failed rule accepted for one host, a tag or all hosts, until a date (inclusive).

    Its life: requested (pending: changes no score), then approved or rejected by a second
    person (two-person rule, config [exceptions] two_person), and an approved one revoked or
    expired. Only an approved one that has not expired (in force) changes a score.
    """

    scope: str  # host, tag or all
    rule_id: str
    reason: str
    requested_by: str  # user@host of whoever asked for it (before approvals: who added it)
    expires: str  # YYYY-MM-DD: holds through that day (UTC), counts again the day after
    host: str | None = None  # scope host: its name
    tag: str | None = None  # scope tag
    id: str | None = None
    created_at: str | None = None  # when it was requested
    status: str = "pending"  # one of STATUSES
    decided_by: str | None = None  # who approved or rejected it
    decided_at: str | None = None
    decision_note: str | None = None
    revoked_by: str | None = None
    revoked_at: str | None = None
    revoke_note: str | None = None

    @property
    def short_id(self) -> str:
        return (self.id or "")[:8]

    @property
    def accepted_by(self) -> str:
        """Who approved it ('' while it is pending or was rejected)."""
        return (self.decided_by or "") if self.status in ("approved", "revoked") else ""

    def expired(self, today: date) -> bool:
        return today > date.fromisoformat(self.expires)

    def in_force(self, today: date) -> bool:
        return self.status == "approved" and not self.expired(today)

    def state(self, today: date) -> str:
        """What it does now, in one word: pending, in force, expired, rejected or revoked."""
        if self.status == "approved":
            return "expired" if self.expired(today) else "in force"
        return self.status

    def expires_within(self, today: date, days: int = EXPIRING_DAYS) -> bool:
        """In force and ending within days (its last day counted)."""
        return self.in_force(today) and (date.fromisoformat(self.expires) - today).days < days

    def covers(self, host: str, tags: tuple[str, ...] | list[str]) -> bool:
        if self.scope == "all":
            return True
        if self.scope == "host":
            return self.host == host
        return self.tag in tags

    def scope_text(self) -> str:
        return {"all": "all hosts", "host": f"host {self.host}", "tag": f"tag {self.tag}"}[self.scope]


@dataclass
class Book:
    """The approved exceptions at one moment: those in force and those that expired (pending,
    rejected and revoked ones change nothing)."""

    active: list[RuleException] = field(default_factory=list)
    expired: list[RuleException] = field(default_factory=list)

    @classmethod
    def of(cls, exceptions: list[RuleException], today: date) -> "Book":
        book = cls()
        for exc in (e for e in exceptions if e.status == "approved"):
            (book.expired if exc.expired(today) else book.active).append(exc)
        return book

    def for_host(self, host: str, tags: tuple[str, ...] | list[str]) -> dict[str, RuleException]:
        """rule id -> the exception in force for this host (a host's own wins over a tag's,
        a tag's over all hosts')."""
        rank = {"host": 0, "tag": 1, "all": 2}
        found: dict[str, RuleException] = {}
        for exc in sorted(self.active, key=lambda e: rank[e.scope]):
            if exc.covers(host, tags):
                found.setdefault(exc.rule_id, exc)
        return found

    def expired_for_host(self, host: str, tags: tuple[str, ...] | list[str]) -> dict[str, RuleException]:
        live = self.for_host(host, tags)
        return {e.rule_id: e for e in self.expired if e.covers(host, tags) and e.rule_id not in live}

    @property
    def rule_ids(self) -> set[str]:
        return {e.rule_id for e in self.active}


def expiring(exceptions: list[RuleException], today: date, days: int = EXPIRING_DAYS) -> list[RuleException]:
    """Those in force that end within days, soonest first (expiry is read from the date, never
    stored: an approved exception past its day counts as failing again at once)."""
    return sorted((e for e in exceptions if e.expires_within(today, days)), key=lambda e: (e.expires, e.rule_id))


def is_failure(result: str) -> bool:
    return result in SCORED_BAD


def score_with_exceptions(counts: dict[str, int], excepted: dict[str, int]) -> float | None:
    """compute_score() with the accepted failures (result -> how many) left out."""
    return compute_score({r: n - excepted.get(r, 0) for r, n in counts.items()})
