"""The sha256s an evidence file can be checked against: of its bytes as kept, and of what
they hold (the ARF joined again from split evidence with its datastream block, or
decompressed). A scan signs the ARF oscap wrote, an import the file as it came (kept as is
when it came compressed, else gzipped here): one of the two matches an untouched file."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from core import evidence as evidence_files


@dataclass(frozen=True)
class Digests:
    raw: str | None  # of the file's bytes; None: unreadable
    plain: str | None  # of the ARF it holds; None: it cannot be read back (error says why)
    error: str | None = None

    def __contains__(self, sha256: object) -> bool:
        return sha256 is not None and sha256 in (self.raw, self.plain)


def _sha256(stream: BinaryIO) -> str:
    digest, _size = evidence_files.digest_of(stream)
    return digest


def open_plain(path: Path) -> BinaryIO:
    if evidence_files.is_split(path):
        return evidence_files.open_split(path)
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x1f\x8b"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    if head.startswith(b"BZh"):
        return cast(BinaryIO, bz2.open(path, "rb"))
    if head.startswith(b"\xfd7zXZ"):
        return cast(BinaryIO, lzma.open(path, "rb"))
    return open(path, "rb")


def digests(path: Path) -> Digests:
    """Both sha256s of an evidence file; a file that is missing or damaged says why."""
    try:
        with open(path, "rb") as f:
            raw = _sha256(f)
    except OSError as exc:
        return Digests(None, None, exc.strerror or type(exc).__name__)
    try:
        with open_plain(path) as plain:
            return Digests(raw, _sha256(plain))
    except (evidence_files.EvidenceError, OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
        return Digests(raw, None, str(exc) or type(exc).__name__)


def plain_sha256(path: Path) -> str | None:
    """The sha256 of the ARF an evidence file holds (None: unreadable)."""
    return digests(path).plain
