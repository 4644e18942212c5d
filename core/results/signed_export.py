"""`evidence export`: a scan as stored, its results and its seal in one JSON file, and
optionally its evidence file as it was signed: what an auditor verifies on another machine
with the public key alone (verify.verify_export)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from core.domain.errors import InvalidInput
from core.domain.text import json_safe
from core.files import private_file, write_private
from core.results.exports import export_path, file_safe
from core.results.report import require_completed
from core.results.verification import export_of
from core.signing import digests
from core.signing.record import parse_record

if TYPE_CHECKING:
    from core.workspace import Workspace

CHUNK = 1 << 20


async def export_scan(workspace: Workspace, scan_id: str, output: Path | None, arf: Path | None) -> list[Path]:
    store = workspace.store
    scan = await store.get_scan(scan_id)
    require_completed(scan)
    results = [(r.rule_id, r.result) for r in await store.rule_results(scan.id)]
    text = json_safe(json.dumps(export_of(scan, results), indent=2, ensure_ascii=False)) + "\n"
    name = f"{file_safe(scan.host_name)}-{scan.short_id}-signed"
    written = [await asyncio.to_thread(write_private, output or export_path(workspace.data_dir, name, "json"), text)]
    if arf is not None:
        if not scan.arf_path:
            raise InvalidInput(f"scan {scan.short_id} keeps no evidence (pruned): there is no ARF to write")
        signed = parse_record(scan.seal.record).get("evidence") if scan.seal else None
        written.append(await asyncio.to_thread(write_evidence, Path(scan.arf_path), signed, arf))
    return written


def write_evidence(path: Path, signed_sha256: str | None, target: Path) -> Path:
    """The evidence in the form its sha256 was taken of: an import kept as it came is copied
    byte for byte, anything else is written as the plain ARF it holds."""
    found = digests.digests(path)
    if found.plain is None and found.raw is None:
        raise InvalidInput(f"{path}: the evidence cannot be read ({found.error})")
    source: BinaryIO = open(path, "rb") if signed_sha256 is not None and signed_sha256 == found.raw \
        else digests.open_plain(path)
    with source, private_file(target) as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)
    return target
