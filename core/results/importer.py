"""Import results produced elsewhere (air-gapped hosts, usg, Foreman, CI) as first-class scans.

Every TestResult of a file becomes one completed scan. The whole file is read and
checked before anything is stored, and all its scans are stored in one transaction (with
the host, when it is new: parallel imports for one new host all succeed).

Rule texts embedded in a file are keyed by their own digest, so a file can only ever
describe its own scans: another file claiming the same benchmark id and version gets its own
texts, never these. Reports say when the texts come from a results file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

from core import files, paths
from core.content.catalog import SHORT_NAMES, load_catalog, version_key
from core.domain.errors import InvalidInput, NotFound, OperatorError
from core.domain.models import Host, RuleInfo, RuleResult, Scan, ScanStatus, compute_score, notice_for
from core.domain.timeutil import now_iso, parse_iso, to_iso
from core.domain.validate import valid_address, validate_host
from core.results import xccdf
from core.safexml import XmlError
from core.signing.record import Sealer
from core.workspace import Workspace

NO_RULE_TEXTS = "rule texts unavailable: the file embeds no benchmark and no local content matches it"
FROM_FILE = "embedded-"  # content ids of rule texts read from a results file
log = logging.getLogger(__name__)


class TargetMismatch(OperatorError):
    """The file says it scanned another machine; the caller confirms or stops."""


@dataclass
class ImportPlan:
    """What one file would add, checked and ready to store."""

    path: Path
    pack: Packed  # the file, packed as evidence while it was read
    results: list[xccdf.TestResultData]
    scans: list[tuple[Scan, list[RuleResult]]]
    rule_source: Path | None  # where the rule texts come from, when not stored yet
    rules: dict[str, RuleInfo] | None = None  # the file's own texts, read while planning


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
    packs: list[Packed] = []
    try:
        parsed = []
        for path in files:
            results, pack = await _read(workspace, path)
            packs.append(pack)
            parsed.append((path, results, pack))
        host = await workspace.store.get_host(host_name)
        if host is None:
            if not create_host:
                flag = "import with --create-host"
                raise NotFound(f"no host named {host_name!r}; add it first, or {flag}",
                               field="import.create_host", cli=flag)
            host = _new_host(host_name, parsed[0][1][0])  # stored with the first file's scans
        imported = []
        for path, results, pack in parsed:
            plan = await _plan(workspace, path, results, pack, host, accept_other_target)
            host = await _store(workspace, plan, host)
            imported += [await workspace.store.get_scan(scan.id) for scan, _ in plan.scans]
        return imported
    finally:  # packed files not kept as some scan's evidence (this import failed, or a later file did)
        for pack in packs:
            pack.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Packed:
    """A results file read once for its evidence: its sha256 and where it waits, compressed,
    until its scans are stored (then renamed to its evidence name)."""

    path: Path
    sha256: str
    suffix: str  # of the evidence: .xml.gz, or the file's own when it came compressed


async def _read(workspace: Workspace, path: Path) -> tuple[list[xccdf.TestResultData], Packed]:
    """The file's TestResults, and the file packed as evidence: both read at once, in two
    threads (zlib and sha256 release the GIL), so packing costs little more than parsing."""
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    read, pack = await asyncio.gather(asyncio.to_thread(xccdf.read_test_results, path),
                                      asyncio.to_thread(_pack, workspace, path), return_exceptions=True)
    if isinstance(pack, Packed) and isinstance(read, BaseException):
        pack.path.unlink(missing_ok=True)
    if isinstance(read, XmlError):
        raise InvalidInput(f"{path.name}: {read}") from None
    if isinstance(read, BaseException):
        raise read
    if isinstance(pack, BaseException):
        raise pack
    return read, pack


def _new_host(name: str, result: xccdf.TestResultData) -> Host:
    """A host for results from a machine we may never reach: its address as the file records it."""
    candidates = [a for a in result.target_addresses if not a.startswith(("127.", "::1", "fe80"))]
    candidates += [result.target or "", name]
    address = next((c for c in candidates if c and valid_address(c)), "0.0.0.0")
    return validate_host(Host(name=name, address=address))


async def _plan(
    workspace: Workspace, path: Path, results: list[xccdf.TestResultData], pack: Packed, host: Host,
    accept_other_target: bool,
) -> ImportPlan:
    digest = pack.sha256
    keys = [result_key(r) for r in results]
    if len(set(keys)) != len(keys):
        raise InvalidInput(f"{path.name}: holds the same TestResult twice")
    for result, key in zip(results, keys):
        if not accept_other_target and not target_matches(host, result):
            raise TargetMismatch(
                f"{path.name}: results are for target {result.target!r}, not {host.name} "
                f"({host.address}); confirm to import them anyway (--yes)")
        existing = await workspace.store.find_imported(host.id, key) if host.id is not None else None
        if existing:
            raise InvalidInput(f"{path.name}: this TestResult is already imported for {host.name} "
                               f"as scan {existing.short_id}")
    content_id, rule_source, rules, notice = await _content_for(workspace, path, results[0])
    scans = [_scan(host, path, digest, result, content_id, notice) for result in results]
    return ImportPlan(path, pack, results, scans, rule_source, rules)


async def _content_for(workspace: Workspace, path: Path, result: xccdf.TestResultData,
                       ) -> tuple[str | None, Path | None, dict[str, RuleInfo] | None, str | None]:
    """(content id, file to read rule texts from, the texts read already, notice): content
    installed here first; else the benchmark embedded in the file, keyed by its own texts."""
    for datastream in await workspace.datastreams():  # the same benchmark installed here
        if datastream.benchmark_id == result.benchmark_id and result.benchmark_version and (
                version_key(datastream.version) == version_key(result.benchmark_version)):
            return datastream.sha256, datastream.path, None, None
    if result.has_benchmark:
        rules = await asyncio.to_thread(_read_rules, path)
        return FROM_FILE + texts_digest(result, rules), path, rules, None
    return None, None, None, NO_RULE_TEXTS


def _read_rules(path: Path) -> dict[str, RuleInfo]:
    try:
        return xccdf.read_rules(path)
    except XmlError as exc:
        raise InvalidInput(f"{path.name}: cannot read its rule texts: {exc}") from None


def texts_digest(result: xccdf.TestResultData, rules: dict[str, RuleInfo]) -> str:
    """What the texts are: the sha256 of the benchmark's id, version and every rule's texts."""
    digest = hashlib.sha256(json.dumps([result.benchmark_id, result.benchmark_version]).encode())
    for rule_id in sorted(rules):
        info = rules[rule_id]
        fields = [info.rule_id, info.title, info.severity, info.description, info.rationale,
                  info.fixtext, info.fix_script]
        digest.update(json.dumps(fields, ensure_ascii=False).encode())
    return digest.hexdigest()


def _scan(host: Host, path: Path, digest: str, result: xccdf.TestResultData,
          content_id: str | None, notice: str | None) -> tuple[Scan, list[RuleResult]]:
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


async def _store(workspace: Workspace, plan: ImportPlan, host: Host) -> Host:
    """Rule texts, evidence, then the scans (and a new host) in one transaction."""
    first = plan.results[0]
    content_id = plan.scans[0][0].content_id
    if content_id and not await workspace.store.has_rules(content_id):
        assert plan.rule_source is not None  # a content id comes with where its texts are
        rules = plan.rules
        if rules is None:
            rules = await asyncio.to_thread(_read_rules, plan.rule_source)
        await workspace.store.save_content(content_id, plan.rule_source.name, first.benchmark_id,
                                           first.benchmark_version, rules.values())
    evidence = _keep_evidence(plan)
    sealer = await Sealer.open(workspace)
    for scan, results in plan.scans:
        scan.arf_path = str(evidence)
        scan.seal = sealer.seal(scan, results, plan.pack.sha256, log.warning)
    try:
        created = await workspace.store.add_imported_scans(plan.scans, host if host.id is None else None)
    except BaseException:
        evidence.unlink(missing_ok=True)  # named for this import alone: no other scan uses it
        raise
    return created or host


def _keep_evidence(plan: ImportPlan) -> Path:
    """The packed file becomes the scans' evidence: named for this import, so a failed
    parallel import can only remove its own."""
    name = f"import-{plan.pack.sha256[:16]}-{plan.scans[0][0].id[:8]}{plan.pack.suffix}"
    return plan.pack.path.replace(plan.pack.path.with_name(name))


def _pack(workspace: Workspace, path: Path) -> Packed:
    """The file as evidence (0600), compressed: gzip it unless it is gzip or bzip2 already;
    its sha256 taken in the same pass. gzip level 6 (gzip(1)'s default): 3% larger than level
    9 on an ARF, in half the time."""
    directory = files.private_dir(paths.evidence_dir(workspace.data_dir))
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        head = source.read(3)
        source.seek(0)
        compressed = head[:2] == b"\x1f\x8b" or head == b"BZh"
        suffix = "".join(path.suffixes[-1:]) if compressed else ".xml.gz"
        target = directory / f"import-{uuid.uuid4().hex}.partial"
        with files.private_file(target) as out:
            packer = None if compressed else zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block if packer is None else packer.compress(block))
            if packer is not None:
                out.write(packer.flush())
    return Packed(target, digest.hexdigest(), suffix)
