"""Which fixes a hardening job runs: checked against the scan they answer, before anything runs.

Quick Fix takes failed rules of one completed scan; Harden takes every failed rule of the
host's latest completed scan of a profile. Either way the fixes come from the very
datastream that scan used, with the host's tailoring when the scan had it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.content import derive
from core.content.catalog import ContentError, Datastream, validate_profile
from core.content.tailoring import Tailoring, original_name, read_tailoring
from core.domain.errors import InvalidInput, NotFound
from core.domain.models import Host, Scan, ScanStatus
from core.remediation.fixes import RULE_PREFIX, Plan, read_plan
from core.remediation.safety import check_grace
from core.workspace import Workspace


@dataclass
class FixRequest:
    host: Host
    scan: Scan  # the scan whose failed rules are fixed
    datastream: Datastream
    profile_id: str  # the benchmark's profile whose values the fixes take
    tailoring: Tailoring | None
    plan: Plan

    def params(self, grace: int) -> dict[str, Any]:
        """What the hardening job needs to rebuild this request in any process."""
        return {"profile": self.scan.profile, "source_scan": self.scan.id,
                "rules": [f.rule_id for f in self.plan.fixes] + [m.rule_id for m in self.plan.missing],
                "grace": check_grace(grace)}


TYPED_ABOVE = 20  # rules on one host beyond which the operator types the host's name to go on


def typed_confirmation(requests: list[FixRequest]) -> str | None:
    """What the operator must type to apply these fixes, for a change too big for a y: the
    count of hosts, or the host's name for more than TYPED_ABOVE rules (None: a y will do)."""
    if len(requests) > 1:
        return str(len(requests))
    if len(requests[0].plan.fixes) > TYPED_ABOVE:
        return requests[0].host.name
    return None


def full_rule_id(rule: str) -> str:
    rule = rule.strip()
    return rule if rule.startswith("xccdf_") else RULE_PREFIX + rule


async def quick_fix(workspace: Workspace, scan_id: str, rules: list[str], system: str = "sh") -> FixRequest:
    scan = await workspace.store.get_scan(scan_id)
    if not rules:
        raise InvalidInput("choose at least one failed rule to fix (--rule RULE_ID)", field="fix.rules",
                           cli="--rule RULE_ID")
    return await _request(workspace, scan, [full_rule_id(r) for r in rules], system)


async def harden(workspace: Workspace, host_name: str, profile: str, system: str = "sh") -> FixRequest:
    validate_profile(profile)
    host = await workspace.store.require_host(host_name)
    scans = [s for s in await workspace.store.find_scans(host=host.name, status="completed")
             if profile in (s.profile, s.profile_id, s.base_profile_id) and s.origin != "import"]
    if not scans:
        command = f"compliance-tui scan {host.name} --profile {profile}"
        raise NotFound(f"{host.name} has no completed {profile} scan to harden against: scan it first ({command})",
                       field="harden.scan", cli=command)
    latest = scans[0]
    failed = [r.rule_id for r in await workspace.store.rule_results(latest.id, result="fail")]
    if not failed:
        raise InvalidInput(f"{host.name}: no rule failed in its latest {profile} scan ({latest.short_id})")
    return await _request(workspace, latest, failed, system)


async def load(workspace: Workspace, params: dict[str, Any], system: str = "sh") -> FixRequest:
    """The request a hardening job's params describe (rebuilt where the job runs)."""
    scan = await workspace.store.get_scan(params["source_scan"])
    return await _request(workspace, scan, list(params["rules"]), system)


async def _request(workspace: Workspace, scan: Scan, rule_ids: list[str], system: str) -> FixRequest:
    if scan.status is not ScanStatus.COMPLETED:
        raise InvalidInput(f"scan {scan.short_id} is {scan.status.value}: only a completed scan's failures "
                           "can be fixed")
    if scan.origin == "import":
        raise InvalidInput(f"scan {scan.short_id} was imported from {scan.source_file}: its content is not "
                           "known here, so it cannot be fixed; scan the host first")
    assert scan.profile_id is not None  # a scan run here names its profile (an import may not)
    host = await workspace.store.require_host(scan.host_name)
    results = {r.rule_id: r.result for r in await workspace.store.rule_results(scan.id)}
    for rule_id in rule_ids:
        if rule_id not in results:
            raise InvalidInput(f"rule {rule_id} is not in scan {scan.short_id} (not in its profile)")
        if results[rule_id] != "fail":
            raise InvalidInput(f"rule {rule_id} did not fail in scan {scan.short_id} (it was "
                               f"{results[rule_id]}): only failed rules can be fixed")
    datastream = await find_datastream(workspace, scan, host)
    base_profile = scan.base_profile_id or scan.profile_id
    job = await workspace.store.job_for_scan(scan.id)
    tailoring = _tailoring(host, scan, (job.params.get("tailoring") if job else None) or host.tailoring_file)
    plan = await asyncio.to_thread(
        read_plan, datastream.path, base_profile, rule_ids, system=system,
        tailoring=tailoring.path if tailoring else None,
        tailored_profile=scan.profile_id if tailoring else None, tailoring_name=tailoring.name if tailoring else None)
    unknown = set(rule_ids) - {f.rule_id for f in plan.fixes} - {m.rule_id for m in plan.missing}
    if unknown:
        raise InvalidInput(f"rule {sorted(unknown)[0]} is not in {datastream.path.name}")
    return FixRequest(host, scan, datastream, base_profile, tailoring, plan)


async def find_datastream(workspace: Workspace, scan: Scan, host: Host) -> Datastream:
    """The datastream a scan used, by its sha256: installed, or derived again for the host."""
    for datastream in await workspace.datastreams():
        if datastream.sha256 == scan.content_id:
            return datastream
    if (os_info := host.os_info) is not None:
        try:
            choice = await derive.resolve(workspace, os_info, scan.profile)
        except ContentError:
            choice = None
        if choice is not None and choice.datastream.sha256 == scan.content_id:
            return choice.datastream
    raise ContentError(f"the content scan {scan.short_id} used ({scan.content_file}, SSG {scan.content_version}) "
                       "is not installed any more: scan the host again, then fix that scan's failures")


def _tailoring(host: Host, scan: Scan, kept_path: str | None) -> Tailoring | None:
    """The tailoring the scan ran with (its job's own file, else the host's), unchanged since."""
    if not scan.tailoring_sha256:
        return None
    if kept_path and Path(kept_path).is_file():
        kept = read_tailoring(Path(kept_path), original_name(Path(kept_path)))
        if kept.sha256 == scan.tailoring_sha256:
            return kept
    raise ContentError(f"scan {scan.short_id} ran with tailoring {scan.tailoring_file}, which {host.name} no "
                       "longer has: scan again with the current tailoring, then fix that scan")
