"""What evidence weighs, and pruning it by policy: results and scores stay, only the ARF
evidence of old scans goes, never that of the latest scan of a host and profile.

Blocks (core/evidence.py) are shared by every split evidence file of their datastream; one
goes when no file on disk refers to it any more. Files and blocks younger than an hour are
left alone: a scan running now may have written them before the store names them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core import evidence, paths
from core.domain.errors import InvalidInput
from core.domain.timeutil import parse_iso
from core.workspace import Workspace

SETTLED = 3600  # seconds before an unreferenced file or block counts as left over


@dataclass(frozen=True)
class Usage:
    scans: int  # scans that keep evidence
    scan_bytes: int  # their files (split or whole)
    blocks: int
    block_bytes: int
    leftover: int  # files and blocks nothing refers to (prune removes them)
    leftover_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.scan_bytes + self.block_bytes + self.leftover_bytes


@dataclass(frozen=True)
class Pruned:
    scans: int
    bytes: int
    blocks: int
    dry_run: bool


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _evidence_files(directory: Path) -> list[Path]:
    """A scan's evidence (ID.arf.*), an import's (import-*, and the .partial of one killed while
    packing: nothing names it, so it is left over once settled)."""
    if not directory.is_dir():
        return []
    return [f for pattern in ("*.arf.*", "import-*") for f in directory.glob(pattern) if f.is_file()]


def _settled(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime > SETTLED
    except OSError:
        return False


async def usage(workspace: Workspace) -> Usage:
    directory = paths.evidence_dir(workspace.data_dir)
    kept = {Path(p) for *_, p in await workspace.store.evidence_scans()}
    files = _evidence_files(directory)
    named = [f for f in files if f in kept]
    used = _blocks_used(named)
    blocks = [b for b in evidence.blocks_dir(directory).glob("*.xz")] if evidence.blocks_dir(directory).is_dir() else []
    shared = [b for b in blocks if b.name[:64] in used]
    leftovers = [f for f in files if f not in kept] + [b for b in blocks if b.name[:64] not in used]
    return Usage(len(kept), sum(map(_size, named)), len(shared), sum(map(_size, shared)),
                 len(leftovers), sum(map(_size, leftovers)))


def _blocks_used(files: list[Path]) -> set[str]:
    used = set()
    for path in files:
        try:
            header = evidence.read_header(path)
        except (OSError, evidence.EvidenceError):
            continue
        if header is not None:
            used.add(header.block)
    return used


def choose(rows: list[tuple[str, int, str, str, str]], keep_days: int | None, keep_last: int | None,
           now: datetime) -> list[tuple[str, str]]:
    """(scan id, evidence path) to prune: older than keep_days and past the keep_last newest of
    its host and profile (at least the newest one is always kept)."""
    cutoff = now - timedelta(days=keep_days) if keep_days is not None else None
    seen: dict[tuple[int, str], int] = defaultdict(int)
    chosen = []
    for scan_id, host_id, profile_id, created_at, arf_path in rows:  # newest first
        seen[(host_id, profile_id)] += 1
        if seen[(host_id, profile_id)] <= max(1, keep_last or 1):
            continue
        if cutoff is not None and created_at and parse_iso(created_at) >= cutoff:
            continue
        chosen.append((scan_id, arf_path))
    return chosen


async def prune(workspace: Workspace, keep_days: int | None = None, keep_last: int | None = None,
                dry_run: bool = False, now: datetime | None = None) -> Pruned:
    if keep_days is None and keep_last is None:
        raise InvalidInput("say what to keep: --keep-days N, --keep-last N, or both")
    for name, value in (("--keep-days", keep_days), ("--keep-last", keep_last)):
        if value is not None and value < (0 if name == "--keep-days" else 1):
            raise InvalidInput(f"{name} must be {'0 or more' if name == '--keep-days' else '1 or more'}")
    directory = paths.evidence_dir(workspace.data_dir).resolve()
    store = workspace.store
    chosen = choose(await store.evidence_scans(), keep_days, keep_last, now or datetime.now(timezone.utc))
    files = [Path(p) for _, p in chosen]
    freed = sum(map(_size, files))
    if not dry_run:
        await store.forget_evidence([scan_id for scan_id, _ in chosen])
        for path in files:
            if path.resolve().parent == directory:  # only ever our own files (an import keeps a copy here)
                path.unlink(missing_ok=True)
    kept = {Path(p) for *_, p in await store.evidence_scans()}
    on_disk = _evidence_files(directory)
    for stray in (f for f in on_disk if f not in kept and f not in files and _settled(f)):
        freed += _size(stray)
        if not dry_run:
            stray.unlink(missing_ok=True)
    remaining = [f for f in on_disk if f in kept] if not dry_run else [f for f in on_disk if f not in files]
    used = _blocks_used(remaining)
    blocks = 0
    folder = evidence.blocks_dir(directory)
    for block in (folder.glob("*.xz") if folder.is_dir() else ()):
        if block.name[:64] not in used and _settled(block):
            blocks += 1
            freed += _size(block)
            if not dry_run:
                block.unlink(missing_ok=True)
    return Pruned(len(chosen), freed, blocks, dry_run)
