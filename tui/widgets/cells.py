"""Table cells coloured from the current Textual theme, and the shared text formats.

Cells are Rich Text (never markup strings: rule titles contain brackets), coloured with
the theme's variables so a theme change recolours everything on the next reload.

Host names, OS names, rule ids and titles, error messages and file names come from targets
and files: plain() and safe() show them as they are, never as markup, with control
characters visible (an ESC would reach the operator's terminal through Textual unchanged).
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.style import Style
from rich.text import Text
from textual.color import Color

from core.domain.models import Host, Job, Scan, ScanStatus
from core.domain.text import neutralise
from core.domain.timeutil import parse_iso
from core.views.summaries import profile_title

RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"
DASH = "—"

STATUS_VARS = {  # scans and jobs: the spec's colours, queued blue as running, cancelled gray
    "pending": "foreground-muted", "queued": "text-primary", "running": "text-primary",
    "completed": "text-success", "failed": "text-error", "cancelled": "foreground-muted",
}
# The spec: severity high red, medium orange, low blue; result error yellow. Themes have no
# orange: medium is the theme's warning colour moved towards its error colour, so it never
# looks like an error result.
SEVERITY_VARS = {"high": "text-error", "medium": "orange", "low": "text-primary"}
RESULT_VARS = {
    "pass": "text-success", "fixed": "text-success", "fail": "text-error", "error": "text-warning",
    "unknown": "text-warning", "notapplicable": "foreground-muted", "notchecked": "text-primary",
    "informational": "foreground-muted", "notselected": "foreground-muted",
}

RESULT_LABELS = {"notapplicable": "n/a", "informational": "info", "notselected": "notsel"}


class Palette:
    """Rich styles for theme variables, cached per theme."""

    def __init__(self, app):
        self.app = app
        self._styles: dict[str, Style] = {}

    def clear(self) -> None:
        self._styles.clear()

    def style(self, variable: str, bold: bool = False) -> Style:
        key = f"{self.app.theme}:{variable}:{bold}"
        if key not in self._styles:
            variables = self.app.theme_variables
            background = Color.parse(variables.get("background", "#000000"))
            try:
                if variable == "orange":
                    color = Color.parse(variables["text-warning"]).blend(Color.parse(variables["text-error"]), 0.45)
                else:
                    color = Color.parse(variables.get(variable, variables.get("foreground", "#ffffff")))
            except Exception:  # e.g. "auto 60%": fall back to the plain foreground
                color = Color.parse(variables.get("foreground", "#ffffff"))
            if color.a < 1:
                color = background.blend(color.with_alpha(1), color.a)
            self._styles[key] = Style(color=color.rich_color, bold=bold)
        return self._styles[key]

    def text(self, value: str, variable: str | None, bold: bool = False) -> Text:
        return Text(neutralise(value), style=self.style(variable, bold) if variable else "", end="")

    def muted(self, value: str) -> Text:
        return self.text(value, "foreground-muted")

    def status(self, scan: Scan) -> Text:
        return self.text(scan.status.value, STATUS_VARS.get(scan.status.value))

    def score(self, score: float | None, suffix: str = "") -> Text:
        if score is None:
            return self.muted(DASH)
        return self.text(f"{score:.1f}{suffix}", score_variable(score))

    def severity(self, severity: str) -> Text:
        return self.text(severity, SEVERITY_VARS.get(severity, "foreground-muted"))

    def result(self, result: str) -> Text:
        return self.text(RESULT_LABELS.get(result, result), RESULT_VARS.get(result, "foreground-muted"))

    def count(self, value: int | None, variable: str | None = None) -> Text:
        if value is None:
            return self.muted(DASH)
        return self.text(str(value), variable if value else None)


def plain(value: object, **options) -> Text:
    """Text from a target or a file, shown as it is: never markup, control characters visible."""
    return Text(neutralise("" if value is None else str(value)), **options)


def safe(text: Text | str | None) -> Text:
    """A Text (or str) with every control character made visible, its styles kept."""
    if not isinstance(text, Text):
        return plain(text)
    source = text.plain
    if neutralise(source) == source:
        return text
    out = text.blank_copy()
    cuts = sorted({0, len(source), *(s.start for s in text.spans), *(s.end for s in text.spans)})
    for start, end in zip(cuts, cuts[1:]):
        begin = len(out.plain)
        out.append(neutralise(source[start:end]))
        for span in text.spans:
            if span.start <= start and span.end >= end:
                out.stylize(span.style, begin, len(out.plain))
    return out


def score_variable(score: float) -> str:
    """Green from 80 %, yellow from 60 %, red below (the spec's colour rule)."""
    if score >= 80:
        return "text-success"
    if score >= 60:
        return "text-warning"
    return "text-error"


def score_class(score: float | None) -> str:
    if score is None:
        return "-muted"
    return {"text-success": "-good", "text-warning": "-warn"}.get(score_variable(score), "-bad")


def short_time(iso: str | None) -> str:
    """'2024-05-01 10:00' (UTC, as the store keeps it), or a dash."""
    return iso[:16].replace("T", " ") if iso else DASH


def day_time(iso: str | None, now: datetime | None = None) -> str:
    """'05-01 10:00' in now's year (the app's clock), '2012-12-10' in another (an imported
    archive): short_time in 11 columns, for tables that are tight at 80 columns."""
    if not iso:
        return DASH
    if iso[:4] != str((now or datetime.now(timezone.utc)).year):
        return iso[:10]
    return iso[5:16].replace("T", " ")


def duration(scan: Scan) -> str:
    value = scan.duration_s
    return DASH if value is None else f"{value:.0f}"


def seconds(value: float) -> str:
    """A rule's seconds in at most 5 cells, sub-second ones readable: '<0.01', '0.02', '2.90', '12.3', '95'."""
    if 0 < value < 0.01:
        return "<0.01"
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def short_rule(rule_id: str) -> str:
    return rule_id[len(RULE_PREFIX):] if rule_id.startswith(RULE_PREFIX) else rule_id


def progress_text(done: int, total: int | None) -> str:
    return f"{done} / {total}" if total else f"{done} / ?"


def running_rule(job: Job | None) -> str:
    """'file_permissions_etc_shadow 2m10s': the rule oscap evaluates now, and for how long."""
    if job is None or not job.current:
        return ""
    elapsed = ""
    if job.current_since:
        seconds = max(0, int((datetime.now(timezone.utc) - parse_iso(job.current_since)).total_seconds()))
        elapsed = f" {seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f" {seconds}s"
    return f"{short_rule(job.current)}{elapsed}"


def is_unfinished(scan: Scan) -> bool:
    return scan.status in (ScanStatus.PENDING, ScanStatus.RUNNING)


OS_NAMES = {
    "ubuntu": "Ubuntu", "debian": "Debian", "rhel": "RHEL", "almalinux": "AlmaLinux",
    "rocky": "Rocky", "ol": "Oracle Linux", "amzn": "Amazon Linux", "centos": "CentOS",
    "fedora": "Fedora", "sles": "SLES",
}


def os_label(host: Host) -> str | None:
    """'Ubuntu 22.04' from the detected OS, or None when it is not detected."""
    if host.os_id and host.os_version:
        return f"{OS_NAMES.get(host.os_id, host.os_id)} {host.os_version}"
    return host.os_name or None


def job_status(palette: Palette, job: Job) -> Text:
    label = job.status.value + ("…" if job.cancel_requested and not job.status.finished else "")
    return palette.text(label, STATUS_VARS.get(job.status.value))


def short_profile(profile: str) -> str:
    """'CIS L1' / 'CIS L2' for the short names, else profile_title()."""
    return {"cis-level1-server": "CIS L1", "cis-level2-server": "CIS L2"}.get(profile) or profile_title(profile)
