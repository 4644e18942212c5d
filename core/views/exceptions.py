"""Documented exceptions applied to what is shown: scores, results, reports, exports, gates.

Exceptions are applied when read, not when a scan is stored: an exception added today
changes last week's score too, and one that expired counts again at once. A failure that
an exception in force accepts (fail, error or unknown of that rule on a host it covers) is
left out of the score; passes are untouched. The stored score stays as it was
(Scan.score_before_exceptions).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

from core.domain.models import Host, RuleResult, Scan, ScanStatus
from core.domain.policy import Book, RuleException, is_failure, score_with_exceptions
from core.store.base import ExceptionStore, FleetStore, HostStore, ScorePoint, Store


def today() -> date:
    return datetime.now(timezone.utc).date()


async def load_book(store: ExceptionStore, on: date | None = None) -> Book:
    return Book.of(await store.find_exceptions(), on or today())


async def host_tags(store: HostStore) -> dict[str, tuple[str, ...]]:
    return {h.name: h.tags for h in await store.find_hosts()}


def _excepted_counts(rows: list[tuple[str, str, str]], rules_of: Callable[[str], Container[str]],
                     ) -> dict[str, dict[str, int]]:
    """scan id -> result -> accepted failures, from (scan, rule, result) rows."""
    found: dict[str, dict[str, int]] = {}
    for scan_id, rule_id, result in rows:
        if rule_id in rules_of(scan_id):
            per = found.setdefault(scan_id, {})
            per[result] = per.get(result, 0) + 1
    return found


async def apply_to_scans(store: Store, scans: list[Scan], book: Book | None = None,
                         tags: dict[str, tuple[str, ...]] | None = None) -> list[Scan]:
    """Set score (exceptions honoured), excepted and score_before_exceptions on these scans."""
    book = book if book is not None else await load_book(store)
    completed = [s for s in scans if s.status is ScanStatus.COMPLETED]
    if not book.active or not completed:
        return scans
    tags = tags if tags is not None else await host_tags(store)
    by_host = {h: book.for_host(h, tags.get(h, ())) for h in {s.host_name for s in completed}}
    host_of = {s.id: s.host_name for s in completed}
    rows = await store.failing_results([s.id for s in completed if by_host[s.host_name]], sorted(book.rule_ids))
    excepted = _excepted_counts(rows, lambda scan_id: by_host[host_of[scan_id]])
    for scan in completed:
        counts = excepted.get(scan.id)
        if counts:
            scan.score_before_exceptions = scan.score
            scan.excepted = sum(counts.values())
            scan.score = score_with_exceptions(scan.counts, counts)
    return scans


async def apply_to_points(store: FleetStore, points: list[ScorePoint], since: str | None, book: Book,
                          tags: dict[str, tuple[str, ...]]) -> list[ScorePoint]:
    """Trend points with exceptions honoured."""
    if not book.active or not points:
        return points
    by_host = {h: book.for_host(h, tags.get(h, ())) for h in {p.host for p in points}}
    host_of = {p.scan_id: p.host for p in points}
    rows = [r for r in await store.failing_results_since(since, sorted(book.rule_ids)) if r[0] in host_of]
    excepted = _excepted_counts(rows, lambda scan_id: by_host[host_of[scan_id]])
    if not excepted:
        return points
    return [p._replace(score=_score(p.good, p.bad - sum(excepted[p.scan_id].values())))
            if p.scan_id in excepted else p for p in points]


def _score(good: int, bad: int) -> float | None:
    return round(100.0 * good / (good + bad), 1) if good + bad else None


def mark_results(results: list[RuleResult], rules: dict[str, RuleException]) -> list[RuleResult]:
    """Each failure an exception accepts carries that exception."""
    if not rules:
        return results
    return [replace(r, exception=rules[r.rule_id]) if is_failure(r.result) and r.rule_id in rules else r
            for r in results]


async def exceptions_for(store: Store, host: Host | str | None, book: Book | None = None
                         ) -> tuple[dict[str, RuleException], dict[str, RuleException]]:
    """(in force, expired) exceptions of one host, by rule id."""
    book = book if book is not None else await load_book(store)
    found = host if isinstance(host, Host) or host is None else await store.get_host(host)
    if found is None:
        return {}, {}
    return book.for_host(found.name, found.tags), book.expired_for_host(found.name, found.tags)


async def scan_with_exceptions(store: Store, scan_id: str) -> Scan:
    """One scan with its score as shown (exceptions honoured)."""
    scan = await store.get_scan(scan_id)
    await apply_to_scans(store, [scan])
    return scan


async def results_with_exceptions(store: Store, scan: Scan, result: str | None = None,
                                  **filters: Any) -> list[RuleResult]:
    rules, _expired = await exceptions_for(store, scan.host_name)
    return mark_results(await store.rule_results(scan.id, result, **filters), rules)
