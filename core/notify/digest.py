"""One message for one run of a schedule: a digest across its hosts, the worst first, with the
commands that show the details. Every text from the store (host names, rule titles, errors
from targets) is put on one line, neutralised and cut: the message goes to mail and chat.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.notify_settings import NotifySettings
from core.domain.text import one_line
from core.notify.drift import HostDrift, RunDrift
from core.views.compare import Change
from core.views.summaries import profile_title

RULES_SHOWN = 10  # per host and kind of change; the rest are counted
UNCHANGED_SHOWN = 20  # hosts named on the line of hosts where nothing changed
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Digest:
    title: str
    body: str
    worth_telling: bool  # something changed or needs attention (a heartbeat is sent anyway)


def dropped(host: HostDrift, settings: NotifySettings) -> bool:
    change = host.score_change
    return change is not None and -change >= settings.score_drop > 0


def below_floor(host: HostDrift, settings: NotifySettings) -> bool:
    return settings.score_floor is not None and host.score is not None and host.score < settings.score_floor


def worse(host: HostDrift, settings: NotifySettings) -> bool:
    return bool(host.newly_failing or host.failed or host.overdue_since is not None
                or dropped(host, settings) or below_floor(host, settings))


def changed(host: HostDrift, settings: NotifySettings) -> bool:
    return worse(host, settings) or bool(host.newly_passing)


def _badness(host: HostDrift) -> tuple[int, int, int, float]:
    """Sort key, worst first: overdue, failed, then the most severe newly failing, then the drop."""
    severe = min((SEVERITY_RANK.get(c.severity, 3) for c in host.newly_failing), default=4)
    return (host.overdue_since is None, host.failed is None, severe * 1000 - len(host.newly_failing),
            host.score_change or 0.0)


def _rules(mark: str, label: str, changes: list[Change]) -> list[str]:
    ordered = sorted(changes, key=lambda c: (SEVERITY_RANK.get(c.severity, 3), c.rule_id))
    lines = [f"  {mark} {label} [{one_line(c.severity, 12)}] {one_line(c.title, 120)} ({one_line(c.rule_id, 160)})"
             for c in ordered[:RULES_SHOWN]]
    if len(ordered) > RULES_SHOWN:
        lines.append(f"    and {len(ordered) - RULES_SHOWN} more {label}")
    return lines


def _score(host: HostDrift) -> str:
    if host.score is None:
        return "no score"
    change = host.score_change
    if change is None or host.previous is None or host.previous.score is None:
        return f"score {host.score:.1f}%"
    return f"score {host.score:.1f}% (was {host.previous.score:.1f}%, {change:+.1f})"


def _host_lines(host: HostDrift, settings: NotifySettings) -> list[str]:
    name = one_line(host.host, 80)
    if host.failed is not None:
        lines = [f"{name}: the scan did not complete: {one_line(host.failed, 200)}"]
        if host.overdue_since is not None:
            since = host.overdue_since[:10] if host.overdue_since else "ever"
            lines.append(f"  overdue: no completed scan since {since}")
        lines.append(f"  details: compliance-tui jobs show {host.job.short_id}")
        return lines
    notes = [f"{len(host.newly_failing)} newly failing" if host.newly_failing else "",
             f"{len(host.newly_passing)} newly passing" if host.newly_passing else "",
             f"dropped {settings.score_drop:g} points or more" if dropped(host, settings) else "",
             f"below the floor of {settings.score_floor:g}%" if below_floor(host, settings) else ""]
    lines = [f"{name}: {_score(host)}: " + (", ".join(n for n in notes if n) or "no change")]
    lines += _rules("-", "newly failing", host.newly_failing) + _rules("+", "newly passing", host.newly_passing)
    if host.scan is not None and host.previous is not None and (host.newly_failing or host.newly_passing):
        lines.append(f"  details: compliance-tui diff {host.previous.short_id} {host.scan.short_id}")
    return lines


def _counts(drift: RunDrift, settings: NotifySettings) -> list[str]:
    hosts = drift.hosts
    parts = [f"{len(hosts)} host{'s' if len(hosts) != 1 else ''}",
             f"{sum(worse(h, settings) for h in hosts)} worse",
             f"{sum(bool(h.newly_passing) and not worse(h, settings) for h in hosts)} better"]
    for count, words in ((sum(h.failed is not None for h in hosts), "scan(s) failed"),
                         (sum(h.overdue_since is not None for h in hosts), "overdue"),
                         (len(drift.expiring), "exception(s) expiring within 7 days")):
        if count:
            parts.append(f"{count} {words}")
    return parts


def digest(drift: RunDrift, settings: NotifySettings) -> Digest:
    schedule = drift.schedule
    counts = _counts(drift, settings)
    telling = any(changed(h, settings) for h in drift.hosts) or bool(drift.expiring)
    summary = ", ".join(counts[1:]) if telling else "no changes"
    title = f"compliance-tui: {profile_title(schedule.profile)} on {one_line(schedule.target_text(), 60)}: {summary}"
    lines = [f"Schedule {schedule.short_id}: {one_line(schedule.profile, 120)} on "
             f"{one_line(schedule.target_text(), 200)}, {one_line(schedule.cadence, 60)} ({schedule.tz})",
             f"Run of {drift.slot[:16].replace('T', ' ')} UTC: {', '.join(counts)}", ""]
    ordered = sorted(drift.hosts, key=_badness)
    for host in (h for h in ordered if changed(h, settings)):
        lines += _host_lines(host, settings)
    quiet = [one_line(h.host, 80) for h in ordered if not changed(h, settings)]
    if quiet:
        more = f" and {len(quiet) - UNCHANGED_SHOWN} more" if len(quiet) > UNCHANGED_SHOWN else ""
        lines.append(f"No change: {', '.join(quiet[:UNCHANGED_SHOWN])}{more}")
    if drift.expiring:
        lines += ["", "Exceptions expiring within 7 days (the rule counts as failing again after):"]
        lines += [f"  {e.expires}: {one_line(e.rule_id, 160)} on {one_line(', '.join(hosts), 200)} "
                  f"(exception {e.short_id}: compliance-tui exceptions list)" for e, hosts in drift.expiring]
    lines += ["", f"Every run: compliance-tui schedules runs {schedule.short_id}"]
    return Digest(title, "\n".join(lines) + "\n", telling)
