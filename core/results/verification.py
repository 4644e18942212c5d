"""Checking a scan's seal (core/signing/record.py): the signature over its record, the store against the record, the
evidence bytes against the record's sha256; each difference named.

The results digest alone cannot name a rule, so when the stored results differ from the
signed ones the evidence (when its bytes are still the signed ones) is read again and its
results compared rule by rule with the stored ones.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core import evidence as evidence_files
from core.domain.errors import InvalidInput
from core.domain.models import Scan, ScanStatus, Seal
from core.results import xccdf
from core.safexml import XmlError
from core.signing import digests
from core.signing.keys import fingerprint, load_key, place_of
from core.signing.record import pairs, parse_record, record_of, results_digest

if TYPE_CHECKING:
    from core.workspace import Workspace

VERIFIED, UNSIGNED, FAILED = "verified", "unsigned", "failed"
MOST_RULES_NAMED = 50  # a wholesale change names this many rules, then counts the rest
_LABELS = {"rules": "rule count", "counts": "result counts", "evidence": "evidence sha256"}


@dataclass
class Verdict:
    scan_id: str
    host: str
    status: str  # verified, unsigned or failed
    key: str | None = None  # the fingerprint it was signed with
    problems: list[str] = field(default_factory=list)  # each difference, one line
    notes: list[str] = field(default_factory=list)  # worth knowing, not a failure (evidence pruned)

    @property
    def ok(self) -> bool:
        return self.status == VERIFIED

    def to_dict(self) -> dict[str, Any]:
        return {"scan": self.scan_id, "host": self.host, "status": self.status, "key": self.key,
                "problems": self.problems, "notes": self.notes}


class TrustedKeys:
    """The public keys a seal may be made with, by fingerprint."""

    def __init__(self, keys: Iterable[Ed25519PublicKey] = ()):
        self.by_fingerprint = {fingerprint(k): k for k in keys}

    def describe(self) -> str:
        return ", ".join(self.by_fingerprint) or "none"


def installation_keys(data_dir: Path, setting: str | None) -> TrustedKeys:
    """This installation's public key (none made yet: no key is trusted)."""
    key = load_key(place_of(data_dir, setting))
    return TrustedKeys([key.public] if key else [])


def summary(verdict: Verdict) -> str:
    """One line for a report."""
    if verdict.status == UNSIGNED:
        return "unsigned (stored before signing existed, or without a signing key)"
    if verdict.ok:
        return f"verified: Ed25519 key {verdict.key}" + (f"; {verdict.notes[0]}" if verdict.notes else "")
    more = f" (and {len(verdict.problems) - 1} more)" if len(verdict.problems) > 1 else ""
    return (f"NOT VERIFIED (key {verdict.key}): {verdict.problems[0] if verdict.problems else 'unknown'}{more}; "
            f"see `compliance-tui evidence verify {verdict.scan_id[:8]}`")


def check_signature(seal: Seal, keys: TrustedKeys) -> tuple[dict[str, Any] | None, list[str]]:
    """The signed record when the signature holds; else the problems."""
    public = keys.by_fingerprint.get(seal.key)
    if public is None:
        return None, [f"signing key: signed with {seal.key}, which is none of the keys given "
                      f"({keys.describe()}); pass its public key with --key"]
    try:
        public.verify(base64.b64decode(seal.signature, validate=True), seal.record.encode())
    except (InvalidSignature, binascii.Error, ValueError):
        return None, ["signature: does not match the signed record (the record or the signature was changed)"]
    try:
        record = parse_record(seal.record)
    except InvalidInput as exc:
        return None, [str(exc)]
    if record.get("key") != seal.key:
        return None, [f"signing key: the record names {record.get('key')}, the seal {seal.key}"]
    return record, []


def _show(value: Any) -> str:
    return "none" if value is None else str(value)


def field_differences(signed: dict[str, Any], found: dict[str, Any], where: str = "stored") -> list[str]:
    """One line per field of the record whose value differs (results are named elsewhere)."""
    problems = []
    for name in sorted(set(signed) | set(found)):
        if name in ("results", "evidence") or signed.get(name) == found.get(name):
            continue
        if name == "counts" and isinstance(signed.get(name), dict) and isinstance(found.get(name), dict):
            for result in sorted(set(signed[name]) | set(found[name])):
                if signed[name].get(result) != found[name].get(result):
                    problems.append(f"count of {result}: {where} {_show(found[name].get(result))}, "
                                    f"signed {_show(signed[name].get(result))}")
            continue
        problems.append(f"{_LABELS.get(name, name)}: {where} {_show(found.get(name))}, signed {_show(signed.get(name))}")
    return problems


def rule_differences(found: dict[str, str], evidence: dict[str, str], where: str = "stored") -> list[str]:
    """Each rule whose result differs between found (the store, an export) and the evidence."""
    lines = []
    for rule in sorted(set(found) | set(evidence)):
        mine, theirs = found.get(rule), evidence.get(rule)
        if mine == theirs:
            continue
        if mine is None:
            lines.append(f"rule {rule}: missing from the {where} results, the evidence says {theirs}")
        elif theirs is None:
            lines.append(f"rule {rule}: {where} {mine}, not in the evidence")
        else:
            lines.append(f"rule {rule}: {where} {mine}, the evidence says {theirs}")
    if len(lines) > MOST_RULES_NAMED:
        lines = lines[:MOST_RULES_NAMED] + [f"... and {len(lines) - MOST_RULES_NAMED} more rules"]
    return lines


def evidence_results(path: Path, result_key: str | None) -> dict[str, str]:
    """The results the evidence holds for this scan (an import's file may hold several
    TestResults: result_key says which)."""
    from core.results.importer import result_key as key_of

    with evidence_files.open_results(path) as stream:
        found = xccdf.read_test_results(stream)
    chosen = [r for r in found if result_key is None or key_of(r) == result_key]
    if len(chosen) != 1:
        raise XmlError(f"the evidence holds {len(chosen)} TestResults of this scan, expected one")
    return dict(pairs(xccdf.merge_duplicates(chosen[0].results)))


def check_evidence(path: Path | None, signed_sha256: str | None, verdict: Verdict, name: str) -> bool:
    """Whether the evidence bytes are the signed ones (problems go to verdict)."""
    if signed_sha256 is None:
        verdict.notes.append("no evidence was signed")
        return False
    if path is None:
        verdict.notes.append("evidence pruned (`evidence prune`): its bytes cannot be checked; "
                             "the results were")
        return False
    found = digests.digests(path)
    if signed_sha256 in found:
        return True
    if found.raw is None:
        verdict.problems.append(f"evidence {name}: cannot be read ({found.error})")
    elif found.plain is None:
        verdict.problems.append(f"evidence {name}: damaged, it cannot be read back ({found.error}); "
                                f"signed sha256 {signed_sha256}")
    else:
        verdict.problems.append(f"evidence {name}: sha256 {found.plain}, signed {signed_sha256} "
                                "(the evidence bytes changed)")
    return False


def name_rules(verdict: Verdict, found: dict[str, str], path: Path | None, result_key: str | None,
               intact: bool, where: str = "stored") -> None:
    """The results differ from the signed digest: name the rules, from the evidence if it is intact."""
    if intact and path is not None:
        try:
            lines = rule_differences(found, evidence_results(path, result_key), where)
        except (XmlError, OSError, EOFError) as exc:
            lines = [f"rule results: the evidence cannot be read to name the rules ({exc})"]
        verdict.problems += lines or [f"rule results: the {where} results differ from the signed digest"]
        return
    verdict.problems.append(f"rule results: the {where} results differ from the signed digest (no intact "
                            "evidence to name the rules)")


def verify_stored(scan: Scan, results: list[tuple[str, str]], keys: TrustedKeys) -> Verdict:
    """A stored scan (as get_scan returns it, before exceptions) and its stored results."""
    verdict = Verdict(scan.id, scan.host_name, FAILED)
    if scan.seal is None:
        verdict.status = UNSIGNED
        if scan.status is not ScanStatus.COMPLETED:
            verdict.notes.append(f"the scan is {scan.status.value}: only completed scans are signed")
        return verdict
    verdict.key = scan.seal.key
    record, verdict.problems = check_signature(scan.seal, keys)
    if record is None:
        return verdict
    found = record_of(scan, results, record.get("evidence"), record.get("by", ""), record.get("key", ""))
    verdict.problems += field_differences(record, found)
    path = Path(scan.arf_path) if scan.arf_path else None
    intact = check_evidence(path, record.get("evidence"), verdict, str(path))
    if found["results"] != record.get("results"):
        name_rules(verdict, dict(results), path, scan.result_key, intact)
    verdict.status = FAILED if verdict.problems else VERIFIED
    return verdict


async def verify_scan(workspace: Workspace, scan_id: str, keys: TrustedKeys) -> Verdict:
    store = workspace.store
    scan = await store.get_scan(scan_id)
    results = [(r.rule_id, r.result) for r in await store.rule_results(scan.id)] if scan.seal else []
    return await asyncio.to_thread(verify_stored, scan, results, keys)


# --------------------------------------------------------------------------- exports

EXPORT_FORMAT = "compliance-tui signed scan"


def export_of(scan: Scan, results: list[tuple[str, str]]) -> dict[str, Any]:
    """What `evidence export` writes: the scan as stored, its results, and its seal; checkable
    elsewhere with the public key alone (verify_export)."""
    from core.views.serialize import scan_to_dict

    return {
        "format": EXPORT_FORMAT, "version": 1, "scan": scan_to_dict(scan),
        "results": [{"rule_id": rule, "result": result} for rule, result in sorted(results)],
        "signed_record": scan.seal.record if scan.seal else None,
        "signature": scan.seal.signature if scan.seal else None,
        "key": scan.seal.key if scan.seal else None,
    }


def _exported_fields(scan: dict[str, Any]) -> dict[str, Any]:
    """The record's fields an export's scan shows."""
    counts = {"pass": "passed", "fail": "failed", "error": "error", "unknown": "unknown",
              "notapplicable": "notapplicable", "notchecked": "notchecked",
              "informational": "informational", "fixed": "fixed"}
    return {"scan": scan.get("id"), "host": scan.get("host"), "profile_id": (scan.get("profile") or {}).get("xccdf_id"),
            "content": (scan.get("content") or {}).get("sha256"), "score": scan.get("score"),
            "created": scan.get("created"), "started": scan.get("started"), "finished": scan.get("finished"),
            "counts": {r: scan.get(column) for r, column in counts.items()}}


def verify_export(bundle: Any, keys: TrustedKeys, evidence: Path | None = None) -> Verdict:
    """An `evidence export` file, with the public key(s) and optionally the scan's ARF."""
    if not isinstance(bundle, dict) or bundle.get("format") != EXPORT_FORMAT:
        raise InvalidInput("not a signed scan export (`compliance-tui evidence export` writes one)")
    found = bundle.get("scan")
    scan: dict[str, Any] = found if isinstance(found, dict) else {}
    verdict = Verdict(str(scan.get("id")), str(scan.get("host")), FAILED)
    if not all(isinstance(bundle.get(k), str) for k in ("signed_record", "signature", "key")):
        verdict.status = UNSIGNED
        return verdict
    seal = Seal(bundle["signed_record"], bundle["signature"], bundle["key"])
    verdict.key = seal.key
    record, verdict.problems = check_signature(seal, keys)
    if record is None:
        return verdict
    try:
        results = {str(r["rule_id"]): str(r["result"]) for r in bundle.get("results") or []}
    except (TypeError, KeyError):
        raise InvalidInput("the export's results are not a list of rule_id and result") from None
    shown = _exported_fields(scan)
    signed = {name: record.get(name) for name in shown}
    signed["counts"] = {r: (record.get("counts") or {}).get(r) for r in shown["counts"]}
    verdict.problems += field_differences(signed, shown, "exported")
    intact = check_evidence(evidence, record.get("evidence"), verdict, str(evidence)) if evidence else False
    if evidence is None:
        verdict.notes.append("no evidence given (--evidence): its bytes were not checked")
    if results_digest(results.items()) != record.get("results"):
        name_rules(verdict, results, evidence, record.get("result_key"), intact, "exported")
    verdict.status = FAILED if verdict.problems else VERIFIED
    return verdict
