"""The stable JSON shapes of hosts, scans and rule results (CLI output and exports)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.content import tailoring
from core.content.catalog import SHORT_NAMES
from core.content.frameworks import framework_of
from core.domain.models import Host, Job, RuleResult, Scan
from core.domain.policy import RuleException, Schedule

if TYPE_CHECKING:
    from core.views.compare import Change, Comparison


def host_to_dict(host: Host) -> dict[str, Any]:
    return {
        "name": host.name,
        "address": host.address,
        "port": host.port,
        "user": host.username,
        "transport": host.transport,
        "tailoring": tailoring.original_name(Path(host.tailoring_file)) if host.tailoring_file else None,
        "tags": list(host.tags),
        "zone": host.zone,
        "os": {"id": host.os_id, "version": host.os_version, "name": host.os_name,
               "family": host.os_family} if host.os_id else None,
        "status": host.status,
        "created": host.created_at,
    }


def scan_to_dict(scan: Scan) -> dict[str, Any]:
    counts = scan.counts
    return {
        "id": scan.id,
        "host": scan.host_name,
        "profile": {
            "name": scan.profile if scan.profile in SHORT_NAMES else None,
            "xccdf_id": scan.profile_id,
            "framework": framework_of(scan.profile_id or scan.profile).key,
        },
        "content": {"file": scan.content_file, "sha256": scan.content_id,
                    "version": scan.content_version, "derived_from": scan.content_derived_from,
                    "label": f"derived from {scan.content_derived_from} content"
                    if scan.content_derived_from else None},
        "status": scan.status.value,
        "score": scan.score,
        "passed": counts.get("pass", 0),
        "failed": counts.get("fail", 0),
        "error": counts.get("error", 0),
        "unknown": counts.get("unknown", 0),
        "notapplicable": counts.get("notapplicable", 0),
        "notchecked": counts.get("notchecked", 0),
        "informational": counts.get("informational", 0),
        "fixed": counts.get("fixed", 0),
        "total": scan.total,
        "progress": {"done": scan.progress_done, "total": scan.progress_total},
        "duration_s": scan.duration_s,
        "created": scan.created_at,
        "started": scan.started_at,
        "finished": scan.finished_at,
        "error_message": scan.error_message,
        "notice": scan.notice,
        "tailoring": {"file": scan.tailoring_file, "sha256": scan.tailoring_sha256,
                      "base_profile_id": scan.base_profile_id} if scan.tailoring_file else None,
        "imported": {"file": scan.source_file, "sha256": scan.source_sha256, "target": scan.target}
        if scan.origin == "import" else None,
        "excepted": scan.excepted,
        "score_before_exceptions": scan.score_before_exceptions if scan.excepted else None,
        # the Ed25519 signature of its signed record (core/signing), and the key's fingerprint
        "signature": {"key": scan.seal.key, "value": scan.seal.signature} if scan.seal else None,
    }


def result_to_dict(result: RuleResult) -> dict[str, Any]:
    return {
        "rule_id": result.rule_id,
        "title": result.title,
        "severity": result.severity,
        "result": result.result,
        "seconds": result.seconds,
        "exception": exception_brief(result.exception) if result.exception else None,
    }


def job_to_dict(job: Job, with_output: bool = False) -> dict[str, Any]:
    shape = {
        "id": job.id,
        "kind": job.kind,
        "host": job.host_name,
        "profile": job.profile,
        "params": job.params,
        "priority": job.priority,
        "status": job.status.value,
        "attempts": job.attempts,
        "created": job.created_at,
        "started": job.started_at,
        "finished": job.finished_at,
        "duration_s": job.duration_s,
        "progress": {"done": job.progress_done, "total": job.progress_total, "current": job.current},
        "scan_id": job.scan_id,
        "error": job.error,
        "worker": job.lease_owner,
        "cancel_requested": job.cancel_requested,
        "result": job.result,
    }
    if with_output:
        shape["output"] = job.output
    return shape


def exception_brief(exc: RuleException) -> dict[str, Any]:
    return {"id": exc.id, "reason": exc.reason, "accepted_by": exc.accepted_by, "expires": exc.expires,
            "scope": exc.scope_text()}


def exception_to_dict(exc: RuleException, on: date) -> dict[str, Any]:
    """An exception in --json: status is what was decided (pending, approved, rejected,
    revoked), state what it does on that day (an approved one: in force or expired)."""
    return {
        "id": exc.id,
        "scope": exc.scope,
        "host": exc.host,
        "tag": exc.tag,
        "rule_id": exc.rule_id,
        "reason": exc.reason,
        "status": exc.status,
        "state": exc.state(on),
        "requested_by": exc.requested_by,
        "requested_at": exc.created_at,
        "accepted_by": exc.accepted_by or None,
        "decided_by": exc.decided_by,
        "decided_at": exc.decided_at,
        "decision_note": exc.decision_note,
        "revoked_by": exc.revoked_by,
        "revoked_at": exc.revoked_at,
        "revoke_note": exc.revoke_note,
        "expires": exc.expires,
        "expired": exc.expired(on),  # its day has passed
        "created": exc.created_at,
    }


def schedule_to_dict(schedule: Schedule, *, next_run: str | None, outcome: dict[str, int],
                     hosts: int, missing: list[str], cadence_text: str) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "target": {"kind": schedule.target_kind, "hosts": list(schedule.targets) if schedule.target_kind == "hosts"
                   else None, "tag": schedule.targets[0] if schedule.target_kind == "tag" else None},
        "hosts": hosts,
        "missing_hosts": missing,
        "profile": schedule.profile,
        "tailoring": tailoring.original_name(Path(schedule.tailoring)) if schedule.tailoring else None,
        "cadence": schedule.cadence,
        "cadence_text": cadence_text,
        "tz": schedule.tz,
        "priority": schedule.priority,
        "paused": schedule.paused,
        "notify": list(schedule.notify),
        "heartbeat": schedule.heartbeat,
        "next_run": next_run,
        "last_run": schedule.last_slot,
        "last_enqueued": schedule.last_run_at,
        "last_outcome": outcome,
        "created": schedule.created_at,
    }


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    """A core.views.compare.Comparison."""
    def change(c: Change) -> dict[str, Any]:
        return {"rule_id": c.rule_id, "title": c.title, "severity": c.severity, "before": c.before,
                "after": c.after, "excepted": c.excepted}

    older, newer = comparison.older, comparison.newer
    return {
        "host": newer.host_name,
        "older": _compared(older),
        "newer": _compared(newer),
        "same_content": comparison.same_content,
        "same_profile": comparison.same_profile,
        "hardening_between": [j.id for j in comparison.hardening],
        **{category: [change(c) for c in changes] for category, changes in comparison.changes.items()},
    }


def _compared(scan: Scan) -> dict[str, Any]:
    return {"id": scan.id, "created": scan.created_at, "score": scan.score, "content": scan.content_file,
            "content_version": scan.content_version, "profile": scan.profile_id}
