"""Domain types shared by the store, the job runner and the user interfaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from core.domain.timeutil import seconds_between

if TYPE_CHECKING:
    from core.domain.policy import RuleException  # noqa: F401 (annotation only)


class ScanStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


# Every XCCDF 1.2 rule result value, in the order reports list them.
RESULT_VALUES = (
    "pass", "fail", "error", "unknown", "notapplicable",
    "notchecked", "notselected", "informational", "fixed",
)
SCORED_GOOD = frozenset({"pass", "fixed"})
SCORED_BAD = frozenset({"fail", "error", "unknown"})
SEVERITIES = ("high", "medium", "low", "info", "unknown")


MISMATCH_NOTICE = "content does not match this host's OS: every selected rule came back notapplicable"


def notice_for(counts: dict[str, int]) -> str | None:
    """A warning about a completed scan: every evaluated rule notapplicable means the
    benchmark's platform check did not recognise the host."""
    evaluated = {r: n for r, n in counts.items() if r != "notselected" and n}
    if evaluated and set(evaluated) == {"notapplicable"}:
        return MISMATCH_NOTICE
    return None


def compute_score(counts: dict[str, int]) -> float | None:
    """100 x (pass + fixed) / (pass + fixed + fail + error + unknown), one decimal.

    Results that say nothing about compliance (notapplicable, notchecked,
    notselected, informational) are left out. None when nothing was scored.
    """
    good = sum(counts.get(r, 0) for r in SCORED_GOOD)
    bad = sum(counts.get(r, 0) for r in SCORED_BAD)
    if good + bad == 0:
        return None
    return round(100.0 * good / (good + bad), 1)


@dataclass
class Host:
    name: str
    address: str
    port: int = 22
    username: str | None = None
    identity_file: str | None = None
    known_hosts: str | None = None
    sudo_password_env: str | None = None  # name of an env var, never the secret
    transport: str = "ssh"  # "ssh" or "local"
    tailoring_file: str | None = None  # our copy of the host's XCCDF tailoring
    tags: tuple[str, ...] = ()  # what schedules and exceptions can target
    zone: str | None = None  # network zone: only workers of this zone run its jobs (None: no zone)
    os_id: str | None = None
    os_version: str | None = None
    os_name: str | None = None
    os_family: str | None = None
    status: str = "unknown"  # online / offline / unknown
    id: int | None = None
    created_at: str | None = None

    @property
    def endpoint(self) -> str:
        """address:port as the operator reads it: [::1]:2401 for an IPv6 address."""
        return host_port(self.address, self.port)

    @property
    def os_info(self) -> OsInfo | None:
        """The OS detection found, None until a detection ran."""
        if not self.os_id:
            return None
        return OsInfo(self.os_id, self.os_version or "", self.os_name or "", self.os_family or "")


def host_port(address: str, port: int | str) -> str:
    """address:port, an IPv6 address in brackets (as ssh and URLs write it)."""
    return f"[{address}]:{port}" if ":" in (address or "") else f"{address}:{port}"


@dataclass(frozen=True)
class OsInfo:
    id: str
    version: str
    pretty_name: str
    family: str  # debian, rhel, suse, ... from ID/ID_LIKE

    @property
    def major(self) -> str:
        return self.version.split(".")[0]


@dataclass(frozen=True)
class Seal:
    """A completed scan's signed record (core/signing/record.py): the exact canonical text that
    was signed, the Ed25519 signature of it (base64) and the signing key's fingerprint."""

    record: str
    signature: str
    key: str


@dataclass
class Scan:
    id: str
    host_id: int | None  # None until stored with a host new to the store (an import's)
    host_name: str
    profile: str  # what the operator asked for: short name or xccdf id
    profile_id: str | None  # the xccdf profile id; None: an imported TestResult that names none
    status: ScanStatus = ScanStatus.PENDING
    content_id: str | None = None  # sha256 of the datastream
    content_file: str | None = None
    content_version: str | None = None  # the benchmark's version: the SSG release
    content_derived_from: str | None = None  # "RHEL 9" when derived for a rebuild
    progress_done: int = 0
    progress_total: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    score: float | None = None
    error_message: str | None = None
    notice: str | None = None  # e.g. "content does not match this host's OS"
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    arf_path: str | None = None
    tailoring_file: str | None = None  # tailored: the file's name, sha256 and the base profile
    tailoring_sha256: str | None = None
    base_profile_id: str | None = None
    origin: str = "scan"  # "scan" or "import"
    source_file: str | None = None  # imported: the file's name and sha256
    source_sha256: str | None = None
    result_key: str | None = None  # imported: which TestResult of the file
    target: str | None = None  # imported: the target name the results record
    seal: Seal | None = None  # the signature made when it was stored (core/signing); None: unsigned
    # Set by core.views.exceptions, never stored: failures an exception accepts are left out
    # of score; score_before_exceptions keeps the stored one.
    excepted: int = 0
    score_before_exceptions: float | None = None

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def created(self) -> str:
        """created_at of a scan the store returned: it sets it on every one."""
        if self.created_at is None:
            raise ValueError(f"scan {self.short_id} was never stored: it has no creation time")
        return self.created_at

    @property
    def duration_s(self) -> float | None:
        if not (self.started_at and self.finished_at):
            return None
        return seconds_between(self.started_at, self.finished_at)

    @property
    def total(self) -> int:
        return sum(n for r, n in self.counts.items() if r != "notselected")


@dataclass(frozen=True)
class RuleInfo:
    """What the benchmark says about a rule (kept once per content version)."""

    rule_id: str
    title: str = ""
    severity: str = "unknown"
    description: str = ""
    rationale: str = ""
    fixtext: str = ""
    fix_script: str = ""
    # (system, id) pairs: what catalogues cite it (core/results/references.py); () when not read
    references: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    result: str
    severity: str = "unknown"
    title: str = ""
    seconds: float | None = None  # how long oscap took on it (from its progress lines)
    exception: "RuleException | None" = None  # the exception that accepts this failure (views set it)


class JobStatus(StrEnum):
    """pending: in the queue, waiting for any worker; queued: taken by one process (the TUI or
    CLI that created it, or a worker) and waiting there for a free slot; then running, and one
    of the three ends."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


UNFINISHED_JOBS = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
JOB_KINDS = ("scan", "harden")
HOST_CHANGING_KINDS = frozenset({"harden"})  # kinds that run alone on their host
RERUNNABLE_KINDS = frozenset({"scan"})  # safe to run again after a worker stopped mid-job
DEFAULT_PRIORITY = 5


@dataclass
class Job:
    """One unit of work in the queue: a scan of a host, or its hardening."""

    id: str
    kind: str
    host_id: int
    host_name: str
    params: dict[str, Any] = field(default_factory=dict)  # scan: profile, tailoring, timeout
    priority: int = DEFAULT_PRIORITY  # 1..10, 10 runs first
    status: JobStatus = JobStatus.PENDING
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    attempts: int = 0
    error: str | None = None  # one line
    output: str = ""  # the steps and what the target printed, capped
    scan_id: str | None = None
    lease_owner: str | None = None  # the process that holds it, or last ran it
    lease_until: str | None = None
    cancel_requested: bool = False
    progress_done: int = 0
    progress_total: int | None = None
    current: str | None = None  # the rule being evaluated now
    current_since: str | None = None
    result: dict[str, Any] | None = None  # what it found: a hardening job's rules before and after

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def created(self) -> str:
        """created_at of a job the store returned: it sets it on every one."""
        if self.created_at is None:
            raise ValueError(f"job {self.short_id} was never stored: it has no creation time")
        return self.created_at

    @property
    def progress_unit(self) -> str:
        """What progress_done counts: a hardening job's fixes until its re-scan starts, then
        that scan's rules; a scan's rules."""
        return "fixes" if self.kind == "harden" and self.scan_id is None else "rules"

    @property
    def progress_line(self) -> str:
        """'12 / 189 rules', '1 / 2 fixes', '3 / ? rules': never more done than its total."""
        total = self.progress_total
        done = min(self.progress_done, total) if total else self.progress_done
        return f"{done} / {total or '?'} {self.progress_unit}"

    @property
    def profile(self) -> str | None:
        return self.params.get("profile")

    @property
    def duration_s(self) -> float | None:
        if not (self.started_at and self.finished_at):
            return None
        return seconds_between(self.started_at, self.finished_at)

