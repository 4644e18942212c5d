"""Evidence: each scan's ARF, kept so that the exact file oscap wrote can be read back.

oscap embeds the whole source datastream in the ARF (`<arf:report-requests>`, about three
quarters of it), and every scan of the same datastream with the same oscap embeds the same
bytes. So a scan's evidence is a split file: a header line, then the rest of the ARF
compressed, while the block is kept once, by its sha256, under evidence/blocks/. Reading joins
them again: the head lines of the rest, the block, the remaining lines; the whole file's
sha256, computed on the target, is checked when the evidence is stored. Older evidence (one
gzip file per scan) and imported files are read as they are.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, cast

from core.files import private_dir, private_file
from core.safexml import XmlError

MAGIC = b"compliance-tui split ARF 1\n"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20


class EvidenceError(XmlError):
    """Evidence that is not what it claims to be (a wrong sha256, a missing block): unreadable
    results, said as every other unreadable results file is."""


@dataclass(frozen=True)
class SplitHeader:
    sha256: str  # of the whole ARF, as oscap wrote it
    block: str  # sha256 of the <arf:report-requests> lines
    head_lines: int  # lines of the ARF before the block
    size: int  # bytes of the whole ARF

    def to_line(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode() + b"\n"

    @classmethod
    def parse(cls, line: bytes) -> "SplitHeader":
        try:
            fields = json.loads(line)
            header = cls(str(fields["sha256"]), str(fields["block"]), int(fields["head_lines"]), int(fields["size"]))
        except (ValueError, KeyError, TypeError):
            raise EvidenceError("the evidence file's header is damaged") from None
        if not (SHA256.match(header.sha256) and SHA256.match(header.block)) or header.head_lines < 0:
            raise EvidenceError("the evidence file's header is damaged")
        return header


def blocks_dir(evidence_dir: Path) -> Path:
    return Path(evidence_dir) / "blocks"


def block_path(evidence_dir: Path, sha256: str) -> Path:
    return blocks_dir(evidence_dir) / f"{sha256}.xz"


def known_blocks(evidence_dir: Path) -> list[str]:
    """The block sha256s kept here, newest first (what a target need not send again)."""
    found = [(p.stat().st_mtime, p.name[:64]) for p in blocks_dir(evidence_dir).glob("*.xz")
             if SHA256.match(p.name[:64])] if blocks_dir(evidence_dir).is_dir() else []
    return [sha for _, sha in sorted(found, reverse=True)]


def decompressor(data_head: bytes) -> Callable[[BinaryIO], BinaryIO]:
    """A reader of xz or gzip data, by its magic bytes."""
    if data_head.startswith(b"\xfd7zXZ"):
        # typeshed's LZMAFile and GzipFile are BufferedIOBase, binary files in all but name
        return lambda raw: cast(BinaryIO, lzma.LZMAFile(raw))
    if data_head.startswith(b"\x1f\x8b"):
        return lambda raw: cast(BinaryIO, gzip.GzipFile(fileobj=raw))
    raise EvidenceError("the evidence is neither xz nor gzip data")


def _open_compressed(raw: BinaryIO) -> BinaryIO:
    head = raw.read(6)
    raw.seek(-len(head), io.SEEK_CUR)
    return decompressor(head)(raw)


class _Joined(io.RawIOBase):
    """The rest's first head_lines lines, the block, then the rest's remaining bytes."""

    def __init__(self, rest: BinaryIO, block: BinaryIO, head_lines: int, raw: BinaryIO):
        self.parts = iter((_Lines(rest, head_lines), block, rest))
        self.current = next(self.parts)
        self.closers = (rest, block, raw)  # the decompressor does not close the file under it

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # io passes a memoryview
        while True:
            data = self.current.read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            try:
                self.current = next(self.parts)
            except StopIteration:
                return 0

    def close(self) -> None:
        for stream in self.closers:
            stream.close()
        super().close()


class _Lines:
    """Reads at most `count` lines of a stream, leaving the stream right after them."""

    def __init__(self, stream: BinaryIO, count: int):
        self.stream, self.left = stream, count

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        self.left -= 1
        return self.stream.readline()


def open_split(path: Path, raw: BinaryIO | None = None, with_block: bool = True) -> BinaryIO:
    """The exact ARF of a split evidence file (raw: the file, opened, past nothing yet).
    with_block=False: the ARF without its embedded datastream, still well-formed XML, which
    holds every result (a scan's own results are read so, in a quarter of the time)."""
    raw = raw or open(path, "rb")
    try:
        if raw.readline() != MAGIC:
            raise EvidenceError(f"{path} is not split evidence")
        header = SplitHeader.parse(raw.readline())
        block_file = block_path(Path(path).parent, header.block)
        if with_block and not block_file.is_file():
            raise EvidenceError(f"the datastream block {header.block[:12]} of {Path(path).name} is missing "
                                f"from {blocks_dir(Path(path).parent)}")
        rest = _open_compressed(raw)
        block = cast(BinaryIO, lzma.open(block_file, "rb")) if with_block else io.BytesIO()
    except BaseException:
        raw.close()
        raise
    return io.BufferedReader(_Joined(rest, block, header.head_lines, raw), CHUNK)


def open_results(path: Path) -> BinaryIO:
    """What a scan's results are read from: split evidence without its datastream block."""
    from core.safexml import open_maybe_compressed

    return open_split(path, with_block=False) if is_split(path) else open_maybe_compressed(path)


def is_split(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def read_header(path: Path) -> SplitHeader | None:
    with open(path, "rb") as f:
        if f.readline() != MAGIC:
            return None
        return SplitHeader.parse(f.readline())


def digest_of(stream: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def keep_block(evidence_dir: Path, sha256: str, compressed: bytes) -> Path:
    """Keep a block a target sent, after checking it is what its sha256 says; xz on disk."""
    if not SHA256.match(sha256):
        raise EvidenceError("the target named its datastream block with no sha256")
    plain = decompressor(compressed[:6])(io.BytesIO(compressed))
    found, _size = digest_of(plain)
    if found != sha256:
        raise EvidenceError("the datastream block the target sent does not match its sha256")
    target = block_path(evidence_dir, sha256)
    if target.is_file():
        return target
    private_dir(blocks_dir(evidence_dir))
    with private_file(target) as out:
        if compressed.startswith(b"\xfd7zXZ"):
            out.write(compressed)
        else:
            plain = decompressor(compressed[:6])(io.BytesIO(compressed))
            with lzma.open(out, "wb", preset=6) as xz:
                while chunk := plain.read(CHUNK):
                    xz.write(chunk)
    return target


def write_split(path: Path, header: SplitHeader, rest: bytes) -> Path:
    """Write the evidence file, then prove it reads back as the ARF the target hashed; a
    mismatch removes it and raises, so a wrong file is never kept."""
    with private_file(path) as out:
        out.write(MAGIC)
        out.write(header.to_line())
        out.write(rest)
    try:
        with open_split(path) as joined:
            found, size = digest_of(joined)
    except (EvidenceError, OSError, EOFError, lzma.LZMAError) as exc:
        path.unlink(missing_ok=True)
        raise EvidenceError(f"the results cannot be joined again: {exc}") from None
    if (found, size) != (header.sha256, header.size):
        path.unlink(missing_ok=True)
        raise EvidenceError("the results joined again differ from what oscap wrote on the target "
                            "(sha256 mismatch); nothing was stored")
    return path


def write_whole(path: Path, sha256: str, size: int, gzipped: bytes) -> Path:
    """An ARF that came whole (gzip), kept after it proves to be what the target hashed (one
    that was no regular file there, "-", could not be hashed first: parsing bounds it)."""
    found = digest_of(cast(BinaryIO, gzip.GzipFile(fileobj=io.BytesIO(gzipped)))) if sha256 != "-" else (sha256, size)
    if found != (sha256, size):
        raise EvidenceError("the results that arrived differ from what oscap wrote on the target "
                            "(sha256 mismatch); nothing was stored")
    with private_file(path) as out:
        out.write(gzipped)
    return path
