"""A scan as an OSCAL assessment-results document (JSON, OSCAL 1.1.2).

One result (the scan), one observation per rule result (with the scan's evidence as its relevant
evidence, in back-matter with the ARF's sha256), and one finding per control of the
chosen reference system (nist-800-53 by default) naming the observations of its rules. The host
is the result's one inventory item. Plain dicts and json: no OSCAL library is loaded here (the
tests validate the document against compliance-trestle's models, a test-only dependency).

UUIDs are version 5, derived from the scan id: exporting the same scan twice gives the same
document but for metadata's last-modified.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.domain.models import Host, RuleInfo, RuleResult, Scan
from core.domain.text import json_safe, one_line
from core.domain.timeutil import parse_iso
from core.results.controls import MET, NOT_APPLICABLE, NOT_CHECKED, ControlView
from core.results.exports import file_safe

OSCAL_VERSION = "1.1.2"
NS = "urn:compliance-tui:oscal"  # the namespace of our props (OSCAL: a URI naming whose they are)
_NAMESPACE = uuid.UUID("5d0c1c8e-6c7a-4c0e-9a55-2b6f0c5e7c61")  # fixed: ids derived from scan ids
_TOKEN_BAD = re.compile(r"[^A-Za-z0-9._-]+")
_NIST = re.compile(r"^([A-Za-z]{2})-(\d+)((?:\(\d+\))*)((?:\([a-z]\))*)$")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _when(iso: str | None) -> str:
    """OSCAL date-time: with its time zone, always."""
    moment = parse_iso(iso) if iso else datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def control_target_id(system: str, ref: str) -> str:
    """The finding's target: NIST 800-53 ids as OSCAL's catalog writes them (AC-6(2) -> ac-6.2,
    CM-6(a) -> cm-6_smt.a); any other system's id as a token of its own (cce-CCE-1234-5)."""
    nist = _NIST.match(ref.strip()) if system == "nist-800-53" else None
    if nist:
        family, number, enhancements, parts = nist.groups()
        target = f"{family.lower()}-{int(number)}" + "".join(f".{int(n)}" for n in re.findall(r"\d+", enhancements))
        letters = re.findall(r"[a-z]", parts)
        return target + (f"_smt.{'.'.join(letters)}" if letters else "")
    return f"{system}-{_TOKEN_BAD.sub('_', ref)}".strip("_")[:200]


def _prop(name: str, value: str, ns: bool = True) -> dict[str, str]:
    """OSCAL prop values are one line without edge spaces: hostile text is flattened first."""
    prop = {"name": name, "value": one_line(value, 1000).strip() or "-"}
    if ns:
        prop["ns"] = NS
    return prop


def _line(value: str | None, fallback: str) -> str:
    """OSCAL titles (markup-line) are one line: hostile text flattened, its controls made visible."""
    return one_line(value, 1000).strip() or fallback


def _text(value: str | None, fallback: str) -> str:
    return (value or "").strip() or fallback


def evidence_sha256(scan: Scan) -> str | None:
    """The sha256 of the scan's ARF as oscap wrote it: the one its signed record holds, else
    read from the evidence (None: pruned or unreadable). The stored file is compressed (and split);
    `evidence export --arf` writes the ARF this digest is of."""
    if scan.seal is not None:
        try:
            recorded = json.loads(scan.seal.record).get("evidence")
        except ValueError:
            recorded = None
        if isinstance(recorded, str) and re.fullmatch(r"[0-9a-f]{64}", recorded) and scan.arf_path \
                and Path(scan.arf_path).is_file():
            return recorded
    if not scan.arf_path or not Path(scan.arf_path).is_file():
        return None
    from core.signing.digests import plain_sha256

    return plain_sha256(Path(scan.arf_path))


def assessment_results(scan: Scan, host: Host | None, results: list[RuleResult], infos: dict[str, RuleInfo],
                       view: ControlView, tool_version: str) -> dict[str, Any]:
    """The document, as JSON-ready dicts."""
    now = datetime.now(timezone.utc).isoformat()
    collected = _when(scan.finished_at or scan.started_at)
    item_uuid, evidence_uuid, plan_uuid = _uuid(scan.id, "host"), _uuid(scan.id, "evidence"), _uuid(scan.id, "plan")
    observations, by_rule = [], {}
    for result in results:
        if result.result == "notselected":
            continue
        info = infos.get(result.rule_id)
        observation_uuid = _uuid(scan.id, "observation", result.rule_id)
        by_rule[result.rule_id] = observation_uuid
        props = [_prop("rule-id", result.rule_id), _prop("result", result.result),
                 _prop("severity", result.severity)]
        if result.exception is not None:
            props.append(_prop("exception", _text(result.exception.reason, "accepted")))
        observations.append({
            "uuid": observation_uuid,
            "title": _line(result.title or (info.title if info else ""), result.rule_id),
            "description": f"XCCDF rule {result.rule_id}: {result.result}",
            "props": props,
            "methods": ["TEST"],
            "subjects": [{"subject-uuid": item_uuid, "type": "inventory-item"}],
            "relevant-evidence": [{"href": f"#{evidence_uuid}",
                                   "description": f"the scan's ARF, rule-result idref={result.rule_id}"}],
            "collected": collected,
        })
    result_doc: dict[str, Any] = {
        "uuid": _uuid(scan.id, "result"),
        "title": _line(f"{scan.profile_id or scan.profile} on {scan.host_name}", scan.id),
        "description": f"OpenSCAP scan {scan.id} of {scan.host_name}, profile {scan.profile_id or scan.profile}",
        "start": _when(scan.started_at or scan.created_at),
        "props": [_prop("scan-id", scan.id), _prop("score", "-" if scan.score is None else f"{scan.score:.1f}"),
                  _prop("reference-system", view.system.name)],
        "local-definitions": {"inventory-items": [_inventory_item(item_uuid, scan, host)]},
        "reviewed-controls": _reviewed(view),
    }
    if scan.finished_at:
        result_doc["end"] = _when(scan.finished_at)
    if observations:
        result_doc["observations"] = observations
    findings = [_finding(scan, view.system.name, control.ref, control.status,
                         [by_rule[r.rule_id] for r in control.rules if r.rule_id in by_rule])
                for control in view.controls]
    if findings:
        result_doc["findings"] = findings
    return {"assessment-results": {
        "uuid": _uuid(scan.id, "assessment-results", view.system.name),
        "metadata": {
            "title": _line(f"Assessment results: {scan.host_name}, {scan.profile_id or scan.profile}", scan.id),
            "last-modified": now,
            "version": tool_version,
            "oscal-version": OSCAL_VERSION,
            "props": [_prop("content-version", _text(scan.content_version, "unknown"))],
        },
        "import-ap": {"href": f"#{plan_uuid}"},
        "results": [result_doc],
        "back-matter": {"resources": [
            {"uuid": plan_uuid, "title": "Assessment plan: the scan's XCCDF profile",
             "description": f"profile {scan.profile_id or scan.profile} of {_text(scan.content_file, 'the content')}",
             "props": [_prop("profile-id", _text(scan.profile_id, scan.profile))]},
            _evidence_resource(evidence_uuid, scan),
        ]},
    }}


def _inventory_item(item_uuid: str, scan: Scan, host: Host | None) -> dict[str, Any]:
    props = [_prop("host-name", scan.host_name)]
    if host is not None:
        props.append(_prop("address", host.address))
        if host.os_name:
            props.append(_prop("os-name", host.os_name))
    return {"uuid": item_uuid, "description": f"host {scan.host_name}", "props": props}


def _reviewed(view: ControlView) -> dict[str, Any]:
    if view.system.name == "nist-800-53" and view.controls:
        ids = sorted({control_target_id("nist-800-53", c.ref).partition("_")[0] for c in view.controls})
        return {"control-selections": [{"include-controls": [{"control-id": i} for i in ids]}]}
    return {"control-selections": [{"include-all": {}}]}


def _finding(scan: Scan, system: str, ref: str, status: str, observation_uuids: list[str]) -> dict[str, Any]:
    reason = "pass" if status == MET else ("other" if status in (NOT_APPLICABLE, NOT_CHECKED) else "fail")
    finding: dict[str, Any] = {
        "uuid": _uuid(scan.id, "finding", system, ref),
        "title": _line(f"{ref}: {status}", status),
        "description": f"{system} {ref}: {status}, from {len(observation_uuids)} rule result(s)",
        "props": [_prop("control-status", status.replace(" ", "-")), _prop("control-ref", ref)],
        "target": {
            "type": "objective-id",
            "target-id": control_target_id(system, ref),
            "status": {"state": "satisfied" if status == MET else "not-satisfied", "reason": reason},
        },
    }
    if observation_uuids:
        finding["related-observations"] = [{"observation-uuid": u} for u in observation_uuids]
    return finding


def _evidence_resource(evidence_uuid: str, scan: Scan) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "uuid": evidence_uuid, "title": "The scan's ARF results (evidence)",
        "description": f"OpenSCAP ARF of scan {scan.id}: `compliance-tui evidence export {scan.id} --arf FILE` "
                       "writes it; its sha256 is the one given here"}
    digest = evidence_sha256(scan)
    if scan.arf_path and digest:
        # a relative name (the data dir means nothing to an assessor), for the file `evidence export --arf` writes
        resource["rlinks"] = [{"href": f"{quote(file_safe(scan.host_name))}-{scan.short_id}-arf.xml",
                               "media-type": "application/xml",
                               "hashes": [{"algorithm": "SHA-256", "value": digest}]}]
    else:
        resource["props"] = [_prop("evidence", "pruned")]
    return resource


def render(document: dict[str, Any]) -> str:
    return json_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
