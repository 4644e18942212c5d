"""Files of a scan read by control: the control view as CSV or JSON, OSCAL assessment results, and
STIG checklists (CKL, CKLB). Each is written privately and whole (core/files.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from core.domain.errors import InvalidInput
from core.domain.models import Host, RuleResult, Scan, ScanStatus
from core.domain.text import json_safe
from core.files import write_private
from core.results import controls as controls_
from core.results.exports import export_path, file_safe, safe_cell, stamp
from core.results.formats import check_format
from core.results.references import BY_NAME

if TYPE_CHECKING:
    from core.workspace import Workspace

CONTROL_COLUMNS = ("system", "control", "status", "rule_id", "title", "severity", "result", "excepted")
CHECKLIST_KINDS = ("ckl", "cklb")


def view_to_dict(scan: Scan, view: controls_.ControlView) -> dict[str, Any]:
    return {
        "scan": scan.id, "host": scan.host_name, "profile_id": scan.profile_id,
        "system": view.system.name, "system_title": view.system.title,
        "unavailable": view.unavailable, "statuses": view.statuses,
        "controls": [{
            "control": c.ref, "status": c.status, "passed": c.passed, "failed": c.failed, "other": c.other,
            "rules": [{"rule_id": r.rule_id, "title": r.title, "severity": r.severity, "result": r.result,
                       "excepted": r.exception is not None} for r in c.rules],
        } for c in view.controls],
        "unmapped_rules": [r.rule_id for r in view.unmapped],
    }


def write_view(scan: Scan, view: controls_.ControlView, fmt: str, out: TextIO) -> None:
    if check_format(fmt) == "json":
        out.write(json_safe(json.dumps(view_to_dict(scan, view), indent=2, ensure_ascii=False)) + "\n")
        return
    if view.unavailable:
        raise InvalidInput(f"scan {scan.short_id}: {view.summary}")
    writer = csv.writer(out)
    writer.writerow(CONTROL_COLUMNS)
    for control in view.controls:
        for rule in control.rules:
            writer.writerow([safe_cell(v) for v in (view.system.name, control.ref, control.status, rule.rule_id,
                                                    rule.title, rule.severity, rule.result,
                                                    "yes" if rule.exception else "")])


async def completed_scan(workspace: Workspace, scan_id: str, what: str) -> tuple[Scan, Host | None, list[RuleResult]]:
    from core.views.exceptions import results_with_exceptions

    scan = await workspace.store.get_scan(scan_id)
    if scan.status is not ScanStatus.COMPLETED:
        raise InvalidInput(f"scan {scan.short_id} is {scan.status.value}: only a completed scan has {what}")
    results = await results_with_exceptions(workspace.store, scan, None, order="rule")
    return scan, await workspace.store.get_host(scan.host_name), results


async def scan_view(workspace: Workspace, scan_id: str, system: str) -> tuple[Scan, controls_.ControlView]:
    scan, _host, results = await completed_scan(workspace, scan_id, "a control view")
    return scan, await controls_.control_view(workspace.store, scan, system, results)


async def export_view_to_file(workspace: Workspace, scan_id: str, system: str, fmt: str,
                              path: Path | None = None) -> Path:
    scan, view = await scan_view(workspace, scan_id, system)
    buffer = io.StringIO(newline="")
    write_view(scan, view, fmt, buffer)
    name = f"{file_safe(scan.host_name)}-{scan.short_id}-{view.system.name}"
    return await asyncio.to_thread(write_private, path or export_path(workspace.data_dir, name, fmt),
                                   buffer.getvalue())


def _default(workspace: Workspace, scan: Scan, what: str, suffix: str) -> Path:
    return workspace.data_dir / "exports" / f"{file_safe(scan.host_name)}-{scan.short_id}-{what}-{stamp()}.{suffix}"


async def export_oscal(workspace: Workspace, scan_id: str, system: str = "nist-800-53",
                       path: Path | None = None) -> Path:
    """OSCAL assessment results of the scan, with findings per control of one reference system."""
    from core.results import oscal

    scan, host, results = await completed_scan(workspace, scan_id, "assessment results")
    view = await controls_.control_view(workspace.store, scan, system, results)
    if view.unavailable:
        raise InvalidInput(f"scan {scan.short_id}: {view.summary}")
    infos = await workspace.store.rule_infos(scan.content_id) if scan.content_id else {}
    document = oscal.assessment_results(scan, host, results, infos, view, _version())
    return await asyncio.to_thread(write_private, path or _default(workspace, scan, "oscal", "json"),
                                   oscal.render(document))


async def export_checklist(workspace: Workspace, scan_id: str, kind: str, path: Path | None = None) -> Path:
    """A STIG checklist (kind: ckl or cklb) of a STIG-profile scan."""
    from core.results import stig_checklist as stig

    if kind not in CHECKLIST_KINDS:
        raise InvalidInput(f"unknown checklist format {kind!r}: use ckl or cklb")
    scan, host, results = await completed_scan(workspace, scan_id, "a STIG checklist")
    refs: dict[str, dict[str, list[str]]] = {}
    for system in ("stigid", "stigref", "cci"):
        found, why = await controls_.scan_references(workspace.store, scan, system)
        if found is None:
            raise InvalidInput(f"scan {scan.short_id}: {BY_NAME[system].title} unavailable ({why})")
        refs[system] = found
    infos = await workspace.store.rule_infos(scan.content_id) if scan.content_id else {}
    rules = stig.stig_rules(scan, results, infos, refs)
    content = await workspace.store.get_content(scan.content_id) if scan.content_id else None
    version = (content or {}).get("version") or scan.content_version or "unknown"
    title = f"{scan.profile_id or scan.profile} ({scan.content_file or 'content'})"
    data: bytes | str = (stig.ckl if kind == "ckl" else stig.cklb)(scan, host, rules, title, version)
    return await asyncio.to_thread(write_private, path or _default(workspace, scan, "stig", kind), data)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("compliance-tui")
    except metadata.PackageNotFoundError:
        return "unknown"

