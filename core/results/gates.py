"""CI gates for `scan`: a JUnit XML file, a SARIF 2.1.0 file and the --fail-on-new baseline.

All three honour documented exceptions: an accepted failure is a skipped test case, a
suppressed SARIF result, and never "new". JUnit: one test case per evaluated rule (fail,
error and unknown fail it; notapplicable, notchecked and informational skip it); a failed
scan is one test case in error. SARIF: one run per scan, one result per rule that did not
pass, the rule's severity mapped to the level and its texts in the tool's rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

from core.domain.models import SCORED_GOOD, RuleInfo, RuleResult, Scan, ScanStatus
from core.domain.policy import is_failure
from core.results.report_markup import clean
from core.store.base import Store
from core.views.exceptions import apply_to_scans, exceptions_for, load_book, mark_results

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}  # info, unknown: note
SKIPPED = frozenset({"notapplicable", "notchecked", "informational"})


@dataclass
class GateScan:
    scan: Scan
    results: list[RuleResult]  # failures an exception accepts carry it
    infos: dict[str, RuleInfo]  # texts of the rules that did not pass


async def gate_scans(store: Store, scans: list[Scan]) -> list[GateScan]:
    book = await load_book(store)
    await apply_to_scans(store, scans, book)
    found = []
    for scan in scans:
        if scan.status is not ScanStatus.COMPLETED:
            found.append(GateScan(scan, [], {}))
            continue
        rules, _expired = await exceptions_for(store, scan.host_name, book)
        results = mark_results(await store.rule_results(scan.id), rules)
        failing = [r.rule_id for r in results if is_failure(r.result)]
        infos = await store.rule_infos(scan.content_id, failing if len(failing) <= 500 else None) \
            if scan.content_id and failing else {}
        found.append(GateScan(scan, results, infos))
    return found


async def new_failures(store: Store, scan: Scan) -> tuple[Scan | None, list[RuleResult]]:
    """The baseline gate: rules that passed in the host's previous completed scan with the same
    profile and do not pass now (accepted failures left out); and that previous scan."""
    if scan.status is not ScanStatus.COMPLETED:
        return None, []
    previous = None
    for other in await store.find_scans(host=scan.host_name, status="completed", until=scan.created_at):
        if other.id != scan.id and (other.profile_id or other.profile) == (scan.profile_id or scan.profile):
            previous = other
            break
    if previous is None:
        return None, []
    passed = {r.rule_id for r in await store.rule_results(previous.id) if r.result in SCORED_GOOD}
    rules, _expired = await exceptions_for(store, scan.host_name)
    now = mark_results(await store.rule_results(scan.id), rules)
    return previous, [r for r in now if is_failure(r.result) and r.exception is None and r.rule_id in passed]


# --------------------------------------------------------------------------- JUnit

def _time(seconds: float | None) -> str:
    return f"{seconds or 0:.3f}"


def junit_xml(items: list[GateScan]) -> bytes:
    root = etree.Element("testsuites", name="compliance-tui")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for item in items:
        scan = item.scan
        suite = etree.SubElement(root, "testsuite", name=clean(f"{scan.host_name} {scan.profile}"),
                                 hostname=clean(scan.host_name), id=scan.id, timestamp=(scan.created_at or "")[:19],
                                 time=_time(scan.duration_s))
        props = etree.SubElement(suite, "properties")
        for name, value in (("scan_id", scan.id), ("profile", scan.profile), ("profile_id", scan.profile_id),
                            ("content", scan.content_file), ("score", scan.score), ("excepted", scan.excepted)):
            etree.SubElement(props, "property", name=name, value=clean("" if value is None else value))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if scan.status is not ScanStatus.COMPLETED:
            case = etree.SubElement(suite, "testcase", name="scan", classname=clean(scan.host_name))
            etree.SubElement(case, "error", type="scan-failed", message=clean(scan.error_message or "the scan failed"))
            counts["tests"] = counts["errors"] = 1
        for result in item.results:
            if result.result == "notselected":
                continue
            counts["tests"] += 1
            case = etree.SubElement(suite, "testcase", name=clean(result.rule_id), classname=clean(scan.host_name))
            title = clean(result.title or result.rule_id)
            if result.exception is not None:
                exc = result.exception
                etree.SubElement(case, "skipped", type="excepted", message=clean(
                    f"excepted until {exc.expires}: {exc.reason} (accepted by {exc.accepted_by})"))
                counts["skipped"] += 1
            elif is_failure(result.result):
                failure = etree.SubElement(case, "failure", type=result.result,
                                           message=clean(f"{result.severity}: {title}"))
                info = item.infos.get(result.rule_id)
                failure.text = clean(info.fixtext if info and info.fixtext else title)
                counts["failures"] += 1
            elif result.result in SKIPPED:
                etree.SubElement(case, "skipped", type=result.result, message=title)
                counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


# --------------------------------------------------------------------------- SARIF

def _text(value: str) -> dict[str, str]:
    return {"text": value or "-"}


def _run(item: GateScan, version: str) -> dict[str, Any]:
    """One SARIF 2.1.0 run: JSON."""
    scan = item.scan
    failing = [r for r in item.results if is_failure(r.result)]
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for result in failing:
        if result.rule_id in index:
            continue
        info = item.infos.get(result.rule_id) or RuleInfo(result.rule_id, result.title, result.severity)
        index[result.rule_id] = len(rules)
        rule: dict[str, Any] = {"id": result.rule_id, "shortDescription": _text(info.title or result.rule_id),
                "fullDescription": _text(info.description or info.title or result.rule_id),
                "defaultConfiguration": {"level": LEVELS.get(result.severity, "note")},
                "properties": {"severity": result.severity}}
        if info.fixtext or info.rationale:
            rule["help"] = _text("\n\n".join(t for t in (info.rationale, info.fixtext) if t))
        rules.append(rule)
    results = []
    for result in failing:
        entry: dict[str, Any] = {
            "ruleId": result.rule_id, "ruleIndex": index[result.rule_id],
            "level": LEVELS.get(result.severity, "note"),
            "message": _text(f"{result.title or result.rule_id}: {result.result} on {scan.host_name}"),
            "locations": [{"logicalLocations": [{"name": scan.host_name, "fullyQualifiedName": scan.host_name,
                                                 "kind": "host"}]}],
            "properties": {"result": result.result, "severity": result.severity, "host": scan.host_name},
        }
        if result.exception is not None:
            exc = result.exception
            entry["suppressions"] = [{"kind": "external", "status": "accepted", "justification":
                                      f"{exc.reason} (accepted by {exc.accepted_by}, until {exc.expires})"}]
        results.append(entry)
    invocation: dict[str, Any] = {"executionSuccessful": scan.status is ScanStatus.COMPLETED}
    if scan.error_message:
        invocation["toolExecutionNotifications"] = [{"level": "error", "message": _text(scan.error_message)}]
    return {
        "tool": {"driver": {"name": "compliance-tui", "version": version, "rules": rules}},
        "automationDetails": {"id": f"compliance-tui/{scan.host_name}/{scan.id}"},
        "invocations": [invocation],
        "results": results,
        "properties": {"host": scan.host_name, "scan_id": scan.id, "profile": scan.profile,
                       "profile_id": scan.profile_id, "score": scan.score, "excepted": scan.excepted},
    }


def sarif_json(items: list[GateScan], version: str = "0.1.0") -> str:
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [_run(i, version) for i in items]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
