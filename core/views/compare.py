"""Two scans of a host compared rule by rule: what newly fails, what newly passes, what
still fails, and which rules a content change added or removed.

"Failing" is fail, error or unknown (what the score counts against); "passing" is pass or
fixed. A rule in both scans whose result moved between anything else (notapplicable,
notchecked, ...) and failing or passing counts as newly failing or newly passing too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.content.frameworks import framework_of
from core.domain.errors import InvalidInput
from core.domain.models import SCORED_GOOD, Job, RuleResult, Scan, ScanStatus
from core.domain.policy import is_failure
from core.store.base import Store
from core.views.exceptions import apply_to_scans, exceptions_for, load_book, mark_results
from core.views.summaries import content_name, profile_label, profile_title

CATEGORIES = ("newly_failing", "newly_passing", "still_failing", "added", "removed")
LABELS = {"newly_failing": "newly failing", "newly_passing": "newly passing",
          "still_failing": "still failing", "added": "added", "removed": "removed"}


@dataclass(frozen=True)
class Change:
    rule_id: str
    title: str
    severity: str
    before: str | None  # None: not in the older scan
    after: str | None  # None: not in the newer scan
    excepted: bool = False  # an exception in force accepts the failure now


@dataclass
class Comparison:
    older: Scan
    newer: Scan
    changes: dict[str, list[Change]] = field(default_factory=dict)  # category -> changes
    hardening: list[Job] = field(default_factory=list)  # hardening jobs run between the two

    def count(self, category: str) -> int:
        return len(self.changes.get(category, []))

    @property
    def same_content(self) -> bool:
        return self.older.content_id == self.newer.content_id

    @property
    def same_profile(self) -> bool:
        return self.older.profile_id == self.newer.profile_id


def differences(comparison: Comparison, arrow: str = "->") -> list[str]:
    """What makes the two scans' rules differ besides the host, in words: another profile
    (Level 1 against Level 2), another content release."""
    older, newer = comparison.older, comparison.newer
    found = []
    before, after = framework_of(older.profile_id or older.profile), framework_of(newer.profile_id or newer.profile)
    if before != after:
        found.append(f"frameworks differ: {before.label} {arrow} {after.label} ({profile_label(older.profile)} "
                     f"{arrow} {profile_label(newer.profile)}); the scans check different requirements: rules only "
                     "one of them selects show as added or removed, and the scores do not compare")
    elif not comparison.same_profile:
        found.append(f"profiles differ: {profile_title(older.profile)} {arrow} {profile_title(newer.profile)}; "
                     "rules only one of them selects show as added or removed, and the scores do not compare")
    if not comparison.same_content:
        found.append(f"content changed: {content_name(older)} {arrow} {content_name(newer)}")
    return found


def _category(before: RuleResult | None, after: RuleResult | None) -> str | None:
    if before is None:
        return "added"
    if after is None:
        return "removed"
    was_bad, now_bad = is_failure(before.result), is_failure(after.result)
    if now_bad:
        return "still_failing" if was_bad else "newly_failing"
    if after.result in SCORED_GOOD and before.result not in SCORED_GOOD:
        return "newly_passing"
    return None


def compare_results(older: list[RuleResult], newer: list[RuleResult]) -> dict[str, list[Change]]:
    before = {r.rule_id: r for r in older}
    after = {r.rule_id: r for r in newer}
    found: dict[str, list[Change]] = {c: [] for c in CATEGORIES}
    for rule_id in sorted(before.keys() | after.keys()):
        old, new = before.get(rule_id), after.get(rule_id)
        category = _category(old, new)
        if category is None:
            continue
        shown = new or old
        assert shown is not None  # a change has a result on one side at least
        found[category].append(Change(rule_id, shown.title, shown.severity, old.result if old else None,
                                      new.result if new else None, bool(new and new.exception)))
    return found


async def compare_scans(store: Store, first: str, second: str) -> Comparison:
    """Two completed scans of one host, the older first whichever order they were given in."""
    scans = [await store.get_scan(first), await store.get_scan(second)]
    for scan in scans:
        if scan.status is not ScanStatus.COMPLETED:
            raise InvalidInput(f"scan {scan.short_id} is {scan.status.value}: only completed scans compare")
    if scans[0].id == scans[1].id:
        raise InvalidInput("give two different scans to compare")
    if scans[0].host_name != scans[1].host_name:
        raise InvalidInput(f"scan {scans[0].short_id} is of {scans[0].host_name} and {scans[1].short_id} of "
                           f"{scans[1].host_name}: compare two scans of one host")
    older, newer = sorted(scans, key=lambda s: (s.created, s.id))
    book = await load_book(store)
    await apply_to_scans(store, [older, newer], book)
    rules, _expired = await exceptions_for(store, newer.host_name, book)
    changes = compare_results(await store.rule_results(older.id),
                              mark_results(await store.rule_results(newer.id), rules))
    jobs, _ = await store.find_jobs(host=newer.host_name, kind="harden")
    # a hardening job starts before the re-scan it makes: started between the two scans
    between = [j for j in jobs if j.started_at and older.created <= j.started_at <= newer.created]
    return Comparison(older, newer, changes, sorted(between, key=lambda j: j.started_at or ""))


async def previous_scan(store: Store, scan: Scan) -> Scan:
    """The completed scan of the same host and profile before this one."""
    for other in await store.find_scans(host=scan.host_name, status="completed", until=scan.created_at):
        if other.id != scan.id and other.profile == scan.profile:
            return other
    raise InvalidInput(f"{scan.host_name} has no completed {scan.profile} scan before {scan.short_id}: "
                       "nothing to compare with")
