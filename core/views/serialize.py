"""The stable JSON shapes of hosts, scans and rule results (CLI output and exports)."""

from __future__ import annotations

from pathlib import Path

from core.content import tailoring
from core.content.catalog import SHORT_NAMES
from core.domain.models import Host, Job, RuleResult, Scan


def host_to_dict(host: Host) -> dict:
    return {
        "name": host.name,
        "address": host.address,
        "port": host.port,
        "user": host.username,
        "transport": host.transport,
        "tailoring": tailoring.original_name(Path(host.tailoring_file)) if host.tailoring_file else None,
        "os": {"id": host.os_id, "version": host.os_version, "name": host.os_name,
               "family": host.os_family} if host.os_id else None,
        "status": host.status,
        "created": host.created_at,
    }


def scan_to_dict(scan: Scan) -> dict:
    counts = scan.counts
    return {
        "id": scan.id,
        "host": scan.host_name,
        "profile": {
            "name": scan.profile if scan.profile in SHORT_NAMES else None,
            "xccdf_id": scan.profile_id,
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
    }


def result_to_dict(result: RuleResult) -> dict:
    return {
        "rule_id": result.rule_id,
        "title": result.title,
        "severity": result.severity,
        "result": result.result,
        "seconds": result.seconds,
    }


def job_to_dict(job: Job, with_output: bool = False) -> dict:
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
