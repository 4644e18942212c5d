"""The store interface: every host, scan, rule result, rule text, job and AI explanation,
behind one async API, split by concern so that a caller names what it needs (an AiStore, a
JobStore) and Store is all of them with the store's lifecycle.

Each concern's queries are written once for both backends (hosts.py, scans.py, jobs.py, ...,
through the database protocol of db.py); sqlite.py and postgres.py hold only what differs.
Callers never see SQL, rows or connections. The store contract tests (tests/store/test_*contract.py)
run the same tests against every backend.

Each method is one transaction: a reader never sees a half-stored scan, and two processes that
claim jobs at once never get the same one.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple, Protocol

from core.domain.audit import Entry, NewEntry
from core.domain.explanations import AiUsage, Explanation
from core.domain.models import Host, Job, RuleInfo, RuleResult, Scan, Seal
from core.domain.policy import RuleException, Schedule


class StoreTooNew(Exception):
    """The store was written by a newer version of the app (its schema is unknown here)."""


@dataclass(frozen=True)
class NewScanJob:
    """One scan job to create: its scan row is made with it, pending."""

    host: Host
    profile: str
    params: dict[str, Any]
    priority: int
    scan_id: str | None = None  # given only where fixed ids are needed (tests)
    created_at: str | None = None
    job_id: str | None = None
    for_workers: bool = False  # pending for a worker even when the jobs are created for an owner


@dataclass(frozen=True)
class Expired:
    """A job whose claiming process stopped renewing its lease, and what became of it."""

    job: Job
    requeued: bool


class ScorePoint(NamedTuple):
    """One completed scan on a trend: who, when, which profile, what score (a tuple, not a
    Scan or a dataclass: the Dashboard reads thousands at a time)."""

    host: str
    scan_id: str
    created_at: str
    score: float | None
    good: int = 0  # pass + fixed
    bad: int = 0  # fail + error + unknown


class HostStore(Protocol):
    """Hosts by name, with their connection, OS, tags and zone (hosts.py)."""

    @abstractmethod
    async def add_host(self, host: Host) -> Host:
        """Insert a host; InvalidInput when the name is taken."""

    @abstractmethod
    async def get_or_add_host(self, host: Host) -> tuple[Host, bool]:
        """The host of that name, or this one added: (host, created), in one transaction."""

    @abstractmethod
    async def update_host(self, host: Host) -> None: ...

    @abstractmethod
    async def get_host(self, name: str) -> Host | None: ...

    async def require_host(self, name: str) -> Host:
        from core.domain.errors import NotFound

        host = await self.get_host(name)
        if host is None:
            raise NotFound(f"no host named {name!r}; see `compliance-tui hosts list`")
        return host

    @abstractmethod
    async def find_hosts(self, search: str | None = None) -> list[Host]:
        """Hosts by name; search matches name, address, user or OS, case-insensitively."""

    @abstractmethod
    async def remove_host(self, name: str) -> int:
        """Remove a host with its scans and jobs; returns how many scans went with it."""


class ContentStore(Protocol):
    """Datastream versions and the texts of their rules (content.py)."""

    @abstractmethod
    async def has_rules(self, content_id: str) -> bool: ...

    @abstractmethod
    async def save_content(
        self, content_id: str, file_name: str, benchmark_id: str | None, version: str | None,
        rules: Iterable[RuleInfo] = (), derived_from: str | None = None,
    ) -> None:
        """Record a datastream version and its rule texts, once per content id."""

    @abstractmethod
    async def references_read(self, content_id: str) -> bool:
        """Whether the content's rule references are kept (False: stored before they were, or unknown)."""

    @abstractmethod
    async def save_references(self, content_id: str, rules: Iterable[RuleInfo]) -> None:
        """Keep the references of the rules (read later from evidence) and mark them read."""

    @abstractmethod
    async def rule_references(self, content_id: str, system: str) -> dict[str, list[str]]:
        """Rule id -> the ids of one system (nist-800-53, stigid...) that the rule cites."""

    @abstractmethod
    async def rule_infos(self, content_id: str, rule_ids: list[str] | None = None) -> dict[str, RuleInfo]:
        """Rule texts of one content version: all of them, or the given rule ids."""

    async def rule_info(self, content_id: str, rule_id: str) -> RuleInfo | None:
        return (await self.rule_infos(content_id, [rule_id])).get(rule_id)

    @abstractmethod
    async def get_content(self, content_id: str) -> dict[str, Any] | None:
        """id, file_name, benchmark_id, version (SSG release), added_at."""

    @abstractmethod
    async def rule_titles(self, rule_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Rule id -> (title, severity), from any content version that has the rule."""


class ScanStore(Protocol):
    """Scans, from pending to completed or imported, and their rule results (scans.py)."""

    @abstractmethod
    async def get_scan(self, scan_id: str) -> Scan:
        """By full UUID or a unique prefix of at least 8 characters."""

    @abstractmethod
    async def find_scans(
        self, host: str | None = None, status: str | None = None, id_prefix: str | None = None,
        since: str | None = None, until: str | None = None, limit: int | None = None,
    ) -> list[Scan]:
        """Scans newest first, filtered by host, status, start of the id and creation time."""

    @abstractmethod
    async def rule_results(
        self, scan_id: str, result: str | None = None, order: str = "rule",
        search: str | None = None, severity: str | None = None,
    ) -> list[RuleResult]:
        """One scan's results with titles and severities; order: rule, severity, result or time."""

    @abstractmethod
    async def latest_completed_scans(self) -> dict[str, Scan]:
        """Host name -> that host's most recent completed scan."""

    @abstractmethod
    async def scan_status_counts(self, host: str | None = None) -> dict[str, int]: ...

    @abstractmethod
    async def scan_counts_by_host(self) -> dict[str, int]: ...

    @abstractmethod
    async def assign_content(
        self, scan_id: str, profile_id: str, content_id: str, progress_total: int | None,
        tailoring: tuple[str, str, str] | None = None,
    ) -> None:
        """Which datastream and profile a scan runs; tailoring: (file name, sha256, base profile)."""

    @abstractmethod
    async def complete_scan(
        self, scan_id: str, results: Iterable[RuleResult], counts: dict[str, int],
        score: float | None, notice: str | None, arf_path: str | None,
        started_at: str | None = None, finished_at: str | None = None,
        job_id: str | None = None, output: str | None = None, seal: Seal | None = None,
    ) -> None:
        """Every rule result and the totals, the scan's seal (its signed record), and the job
        that made them completed, at once."""

    @abstractmethod
    async def add_imported_scans(self, imported: list[tuple[Scan, list[RuleResult]]],
                                 new_host: Host | None = None) -> Host | None:
        """Completed scans from results files, all in one transaction. With new_host, the host
        of that name is created in the same transaction when missing (processes importing for
        one new host at once all succeed), and the scans are its; returns it. Each scan's seal is
        kept with it. A TestResult
        imported for the host already is refused with InvalidInput, nothing stored."""

    @abstractmethod
    async def find_imported(self, host_id: int, result_key: str) -> Scan | None: ...


class FleetStore(Protocol):
    """Reads across many scans, as lean tuples: trends and failures (fleet.py)."""

    @abstractmethod
    async def score_points(self, since: str | None = None, host: str | None = None) -> list[ScorePoint]:
        """Completed scans created since then (all hosts, or one), oldest first."""

    @abstractmethod
    async def results_of(self, scan_ids: list[str], result: str = "fail") -> list[tuple[str, str]]:
        """(scan id, rule id) of every rule with this result in these scans."""

    @abstractmethod
    async def failing_results(self, scan_ids: list[str], rule_ids: list[str]) -> list[tuple[str, str, str]]:
        """(scan id, rule id, result) where one of these rules gave fail, error or unknown."""

    @abstractmethod
    async def failing_results_since(self, since: str | None, rule_ids: list[str]) -> list[tuple[str, str, str]]:
        """failing_results() of every completed scan created since then."""


class EvidenceStore(Protocol):
    """The files scans and hosts refer to: ARF evidence and tailoring (evidence.py)."""

    @abstractmethod
    async def files_in_use(self, paths: list[str]) -> set[str]:
        """Those of these files that a scan (its evidence) or a host (its tailoring) refers to."""

    @abstractmethod
    async def evidence_scans(self) -> list[tuple[str, int, str, str, str]]:
        """(scan id, host id, profile id, created_at, arf_path) of every scan that keeps evidence,
        newest first."""

    @abstractmethod
    async def forget_evidence(self, scan_ids: list[str]) -> None:
        """These scans no longer keep evidence; their results and scores stay."""


class JobStore(Protocol):
    """The job queue: creating, claiming, leasing, progress and ending jobs (jobs.py)."""

    # True: wait_for_change() is woken at once (LISTEN/NOTIFY); False: it polls (SQLite's change
    # counter) or just waits, and a job runner's own claim poll covers it
    notifies: bool = False

    @abstractmethod
    async def create_scan_jobs(
        self, wanted: list[NewScanJob], owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job]:
        """A pending scan and its job per entry. With owner, the jobs are queued for that process
        (it holds their lease); without, they are pending for any worker."""

    @abstractmethod
    async def create_harden_job(self, host: Host, params: dict[str, Any], priority: int,
                                owner: str | None = None, lease_until: str | None = None) -> Job:
        """A hardening job of this host (no scan yet: its re-scan makes one). InvalidInput when
        the host has an unfinished hardening job: one at a time per host."""

    @abstractmethod
    async def add_job_scan(self, job_id: str, profile: str) -> str:
        """A running scan made by this (running) job, e.g. a hardening job's re-scan; its id."""

    @abstractmethod
    async def set_job_result(self, job_id: str, result: dict[str, Any]) -> None:
        """What the job found, kept as JSON (e.g. each fixed rule before and after)."""

    @abstractmethod
    async def append_to_finished_jobs(self, job_ids: list[str], text: str) -> None:
        """Add lines to the output of those jobs that have ended (what happened after them,
        e.g. the notification of their schedule's run); no process writes it any more."""

    @abstractmethod
    async def claim_job(self, owner: str, lease_until: str, take_pending: bool,
                        zone: str | None = None) -> Job | None:
        """Atomically start the next job this process may run: its own queued jobs, and with
        take_pending any pending one of a host in this zone (None: of hosts without a zone);
        highest priority first, then oldest. A job of a kind that changes its host waits while
        another job of that host runs, and the other way round."""

    @abstractmethod
    async def renew_leases(self, owner: str, lease_until: str) -> set[str]:
        """Extend the leases this process holds; returns the ids of its jobs asked to cancel."""

    @abstractmethod
    async def release_jobs(self, owner: str, job_ids: list[str] | None = None) -> int:
        """Hand this process's jobs back to the queue (pending, no owner): the queued ones, or
        the given ones (running jobs a stopping worker did not finish)."""

    @abstractmethod
    async def expire_leases(self, now: str) -> list[Expired]:
        """Jobs whose lease ran out: re-queued once where re-running is safe, else failed."""

    @abstractmethod
    async def record_progress(
        self, job_id: str, done: int, total: int | None, current: str | None,
        current_since: str | None, output: str,
    ) -> None:
        """Live state of a running job (and its scan)."""

    @abstractmethod
    async def finish_job(self, job_id: str, status: str, error: str | None = None,
                         output: str | None = None, finished_at: str | None = None) -> Job:
        """End a job (completed, failed or cancelled) at finished_at (default now); a failed or
        cancelled scan job fails its scan with the same reason. A job that has ended already
        is left as it is."""

    @abstractmethod
    async def cancel_job(self, job_id: str) -> Job:
        """Cancel a waiting job at once, or ask the process running it to stop; a job that has
        ended already is returned unchanged."""

    @abstractmethod
    async def set_job_priority(self, job_id: str, priority: int) -> Job: ...

    @abstractmethod
    async def get_job(self, job_id: str) -> Job:
        """By full UUID or a unique prefix of at least 8 characters."""

    @abstractmethod
    async def job_for_scan(self, scan_id: str) -> Job | None: ...

    @abstractmethod
    async def find_jobs(
        self, status: str | None = None, host: str | None = None, kind: str | None = None,
        offset: int = 0, limit: int | None = None,
    ) -> tuple[list[Job], int]:
        """Jobs newest first (with only the end of their output log), and how many match in all."""

    @abstractmethod
    async def scan_jobs(self, host: str, kind: str) -> dict[str, Job]:
        """Scan id -> the job that made it (with only the end of its output log), for the host's
        scans that a job of this kind made or that are not finished (pending or running): what a
        list of the host's scans shows of their jobs, without reading every job of the host."""

    @abstractmethod
    async def job_status_counts(self) -> dict[str, int]: ...

    async def wait_for_change(self, timeout: float) -> bool:
        """Wait up to timeout seconds for any process to create, remove or change the state of
        a job; True when one did. A backend that cannot tell just waits: callers poll on return
        either way."""
        import asyncio

        await asyncio.sleep(timeout)
        return False


class RunToNotify(NamedTuple):
    schedule_id: str
    slot: str


class ScheduleStore(Protocol):
    """Schedules and the slots they enqueued (schedules.py)."""

    @abstractmethod
    async def add_schedule(self, schedule: Schedule) -> Schedule:
        """Store a new schedule (with schedule.id when given); its slots up to now (or
        schedule.not_before) never run."""

    @abstractmethod
    async def update_schedule(self, schedule: Schedule) -> Schedule:
        """Save target, profile, tailoring, cadence, zone, priority, paused and not_before."""

    @abstractmethod
    async def get_schedule(self, schedule_id: str) -> Schedule:
        """By full UUID or a unique prefix of at least 8 characters."""

    @abstractmethod
    async def find_schedules(self) -> list[Schedule]: ...

    @abstractmethod
    async def remove_schedule(self, schedule_id: str) -> Schedule: ...

    @abstractmethod
    async def enqueue_schedule_slot(
        self, schedule_id: str, slot: str, wanted: list[NewScanJob], enqueued_by: str,
        owner: str | None = None, lease_until: str | None = None,
    ) -> list[Job] | None:
        """In one transaction: take this slot of the schedule (it must be later than the last
        slot taken and than not_before, and the schedule not paused) and create its scan jobs,
        each with the schedule and slot in its params. None when the slot was taken already
        (by any process): a slot is enqueued once."""

    @abstractmethod
    async def schedule_runs(self, schedule_id: str) -> list[dict[str, Any]]:
        """The slots that ran: slot, enqueued_at, enqueued_by, jobs, notify_state and
        notify_note; oldest first."""

    @abstractmethod
    async def runs_to_notify(self, now: str) -> list[RunToNotify]:
        """Runs whose jobs have all ended and whose notification is not done: never claimed,
        or claimed by a process whose claim ran out before now (it stopped)."""

    @abstractmethod
    async def claim_run_notice(self, run: RunToNotify, owner: str, until: str, now: str) -> bool:
        """Take the run's notification for owner until then; False when another process holds
        it or it is done: one process tells of a run, however many look."""

    @abstractmethod
    async def finish_run_notice(self, run: RunToNotify, owner: str, state: str, note: str) -> None:
        """The notification ended (sent, quiet, failed or none), with a line on how."""

    @abstractmethod
    async def slot_jobs(self, run: RunToNotify) -> list[Job]:
        """The jobs that run enqueued, by host name."""

    @abstractmethod
    async def schedule_outcomes(self) -> dict[str, dict[str, int]]:
        """Schedule id -> job status -> how many jobs of its last run are in that status."""


class ExceptionStore(Protocol):
    """Documented, expiring exceptions to rules (exceptions.py)."""

    @abstractmethod
    async def add_exception(self, exc: RuleException) -> RuleException:
        """Recorded with exc's status (a request: pending); NotFound when a host-scoped
        exception names no known host."""

    @abstractmethod
    async def get_exception(self, exc_id: str) -> RuleException: ...

    @abstractmethod
    async def find_exceptions(self, status: str | None = None) -> list[RuleException]:
        """Every exception (or those of one status), expired ones too, oldest first."""

    @abstractmethod
    async def decide_exception(self, exc_id: str, status: str, by: str, note: str | None = None) -> RuleException:
        """A pending exception approved or rejected (status) by whom; InvalidInput when it is
        no longer pending (someone decided first). Who may decide is core/policy's rule."""

    @abstractmethod
    async def revoke_exception(self, exc_id: str, by: str, note: str | None = None) -> RuleException:
        """An approved exception withdrawn; InvalidInput when it is not approved."""

    @abstractmethod
    async def remove_exception(self, exc_id: str) -> RuleException: ...


class AiStore(Protocol):
    """The AI assistant's explanation cache and token usage (ai.py)."""

    @abstractmethod
    async def get_explanation(self, content_id: str, rule_id: str, result: str, model: str,
                              limit: int | None = None) -> Explanation | None:
        """The cached explanation of a rule's result by this model, for this content version;
        with limit, at most its first limit characters are read (stored_chars then says how
        many there are, when there are more)."""

    @abstractmethod
    async def explained_rules(self, content_id: str, model: str) -> set[tuple[str, str]]:
        """(rule id, result) of every explanation cached for this content and model."""

    @abstractmethod
    async def save_explanation(self, explanation: Explanation) -> Explanation:
        """Keep a whole explanation (replacing an older one of the same key); returns it with
        its creation time."""

    @abstractmethod
    async def record_ai_usage(self, day: str, model: str, input_tokens: int, output_tokens: int,
                              estimated: bool = False) -> None:
        """Count one request and its tokens for this UTC day and model."""

    @abstractmethod
    async def ai_usage(self, since: str | None = None) -> list[AiUsage]:
        """Usage per day and model, newest day first; since: the first day (YYYY-MM-DD) wanted."""


class AuditStore(Protocol):
    """The action log: append-only, hash-chained (audit.py; core/domain/audit.py)."""

    @abstractmethod
    async def append_audit(self, entries: list[NewEntry]) -> list[Entry]:
        """Append these entries, in order, in one transaction: each gets the next seq, the time
        now, the previous entry's hash and its own; the chain's head moves with them."""

    @abstractmethod
    async def audit_entries(self, since: str | None = None, subject: str | None = None,
                            action: str | None = None, limit: int | None = None) -> list[Entry]:
        """Entries newest first: since a time (ISO text), of one subject, of an action or a
        dotted prefix of actions ("host" is host.added, host.edited, ...)."""

    @abstractmethod
    async def audit_chain(self, after: int = 0, limit: int = 5000) -> list[Entry]:
        """Entries after this seq, oldest first, at most limit: the chain a page at a time."""

    @abstractmethod
    async def audit_head(self) -> tuple[int, str] | None:
        """The last seq and hash the store recorded beside the chain; None when missing."""


class PolicyStore(ScheduleStore, ExceptionStore, Protocol):
    """Schedules and exceptions: what an operator decides for the fleet."""


class Store(HostStore, ContentStore, ScanStore, FleetStore, EvidenceStore, JobStore, PolicyStore, AiStore,
            AuditStore, Protocol):
    """All of the store, and its lifecycle."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def integrity_check(self) -> str:
        """'ok', or what the backend's own check found."""

    @abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    async def set_meta(self, key: str, value: str) -> None: ...
