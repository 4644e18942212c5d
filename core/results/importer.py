"""Import results produced elsewhere (air-gapped hosts, usg, Foreman, CI) as first-class scans.

Every TestResult of a file becomes one completed scan. The whole file is read and
checked before anything is stored, and all its scans are stored in one transaction.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.content.catalog import SHORT_NAMES, load_catalog, version_key
from core.domain.errors import InvalidInput, NotFound, OperatorError
from core.domain.models import Host, Scan, ScanStatus, compute_score, notice_for
from core.domain.timeutil import now_iso, parse_iso, to_iso
from core.domain.validate import valid_address, validate_host
from core.results import xccdf
from core.safexml import XmlError
from core.workspace import Workspace

NO_RULE_TEXTS = "rule texts unavailable: the file embeds no benchmark and no local content matches it"


class TargetMismatch(OperatorError):
    """The file says it scanned another machine; the caller confirms or stops."""


@dataclass
class ImportPlan:
    """What one file would add, checked and ready to store."""

    path: Path
    sha256: str
    results: list[xccdf.TestResultData]
    scans: list[tuple[Scan, list]]
    rule_source: Path | None  # where the rule texts come from, when not stored yet


def short_name_for(profile_id: str | None) -> str | None:
    """cis-level1-server / cis-level2-server when the xccdf id is one of the catalog's."""
    for entry in load_catalog():
        for short_name, known in entry.profiles.items():
            if known == profile_id and short_name in SHORT_NAMES:
                return short_name
    return None


def target_matches(host: Host, result: xccdf.TestResultData) -> bool:
    if not result.target and not result.target_addresses:
        return True  # nothing to compare
    names = {host.name.lower(), host.address.lower(), host.name.split(".")[0].lower()}
    target = (result.target or "").lower()
    return target in names or target.split(".")[0] in names or host.address in result.target_addresses


def result_key(result: xccdf.TestResultData) -> str:
    """Identifies one TestResult: oscap reuses its id for every run of a profile."""
    return f"{result.test_result_id}|{result.start_time or ''}|{result.end_time or ''}"


async def import_files(
    workspace: Workspace, files: list[Path], host_name: str,
    create_host: bool = False, accept_other_target: bool = False,
) -> list[Scan]:
    """Import every file, or stop at the first one that cannot be imported whole."""
    parsed = [(path, await _read(path)) for path in files]
    host = await workspace.store.get_host(host_name)
    created = host is None
    if created:
        if not create_host:
            raise NotFound(f"no host named {host_name!r}; add it first, or import with --create-host")
        host = await _create_host(workspace, host_name, parsed[0][1][0])
    imported = []
    try:
        for path, results in parsed:
            plan = await _plan(workspace, path, results, host, accept_other_target)
            await _store(workspace, plan)
            imported += [await workspace.store.get_scan(scan.id) for scan, _ in plan.scans]
    except Exception:
        if created and not imported:  # a refused import leaves no host behind either
            await workspace.store.remove_host(host.name)
        raise
    return imported


async def _read(path: Path) -> list[xccdf.TestResultData]:
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    try:
        return await asyncio.to_thread(xccdf.read_test_results, path)
    except XmlError as exc:
        raise InvalidInput(f"{path.name}: {exc}") from None


async def _create_host(workspace: Workspace, name: str, result: xccdf.TestResultData) -> Host:
    """A host for results from a machine we may never reach: its address as the file records it."""
    candidates = [a for a in result.target_addresses if not a.startswith(("127.", "::1", "fe80"))]
    candidates += [result.target or "", name]
    address = next((c for c in candidates if c and valid_address(c)), "0.0.0.0")
    return await workspace.store.add_host(validate_host(Host(name=name, address=address)))


async def _plan(
    workspace: Workspace, path: Path, results: list[xccdf.TestResultData], host: Host,
    accept_other_target: bool,
) -> ImportPlan:
    digest = await asyncio.to_thread(_sha256, path)
    keys = [result_key(r) for r in results]
    if len(set(keys)) != len(keys):
        raise InvalidInput(f"{path.name}: holds the same TestResult twice")
    for result, key in zip(results, keys):
        if not accept_other_target and not target_matches(host, result):
            raise TargetMismatch(
                f"{path.name}: results are for target {result.target!r}, not {host.name} "
                f"({host.address}); confirm to import them anyway (--yes)")
        existing = await workspace.store.find_imported(host.id, key)
        if existing:
            raise InvalidInput(f"{path.name}: this TestResult is already imported for {host.name} "
                               f"as scan {existing.short_id}")
    content_id, rule_source, notice = await _content_for(workspace, path, results[0])
    scans = [_scan(host, path, digest, result, content_id, notice) for result in results]
    return ImportPlan(path, digest, results, scans, rule_source)


async def _content_for(workspace: Workspace, path: Path, result: xccdf.TestResultData):
    """(content id, file to read rule texts from or None, notice): embedded benchmark first."""
    for datastream in await workspace.datastreams():  # the same benchmark installed here
        if datastream.benchmark_id == result.benchmark_id and result.benchmark_version and (
                version_key(datastream.version) == version_key(result.benchmark_version)):
            return datastream.sha256, datastream.path, None
    if result.has_benchmark:
        identity = f"{result.benchmark_id}\0{result.benchmark_version}".encode()
        return "embedded-" + hashlib.sha256(identity).hexdigest(), path, None
    return None, None, NO_RULE_TEXTS


def _scan(host: Host, path: Path, digest: str, result: xccdf.TestResultData,
          content_id: str | None, notice: str | None) -> tuple[Scan, list]:
    rule_results = xccdf.merge_duplicates(result.results)
    counts = xccdf.count_results(rule_results)
    started = _when(result.start_time) or now_iso()
    finished = _when(result.end_time) or started
    scan = Scan(
        id=str(uuid.uuid4()), host_id=host.id, host_name=host.name,
        profile=short_name_for(result.profile_id) or result.profile_id or "(no profile)",
        profile_id=result.profile_id, status=ScanStatus.COMPLETED, content_id=content_id,
        counts=counts, score=compute_score(counts), notice=notice or notice_for(counts),
        created_at=started, started_at=started, finished_at=finished, origin="import",
        source_file=path.name, source_sha256=digest, result_key=result_key(result),
        target=result.target,
    )
    return scan, rule_results


def _when(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return to_iso(parse_iso(text))
    except ValueError:
        return None


async def _store(workspace: Workspace, plan: ImportPlan) -> None:
    first = plan.results[0]
    content_id = plan.scans[0][0].content_id
    if content_id and not await workspace.store.has_rules(content_id):
        rules = await asyncio.to_thread(xccdf.read_rules, plan.rule_source)
        await workspace.store.save_content(content_id, plan.rule_source.name, first.benchmark_id,
                                           first.benchmark_version, rules.values())
    evidence = await asyncio.to_thread(_keep_evidence, workspace, plan)
    for scan, _ in plan.scans:
        scan.arf_path = str(evidence)
    try:
        await workspace.store.add_imported_scans(plan.scans)
    except Exception:
        evidence.unlink(missing_ok=True)
        raise


def _keep_evidence(workspace: Workspace, plan: ImportPlan) -> Path:
    """The file as evidence, compressed: gzip it unless it is gzip or bzip2 already."""
    directory = paths.evidence_dir(workspace.data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with open(plan.path, "rb") as source:
        head = source.read(3)
        source.seek(0)
        if head[:2] == b"\x1f\x8b" or head == b"BZh":
            target = directory / f"import-{plan.sha256}{''.join(plan.path.suffixes[-1:])}"
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out)
        else:
            target = directory / f"import-{plan.sha256}.xml.gz"
            with gzip.open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
