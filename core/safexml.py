"""The one way this project reads XML: no entity expansion, no DTD, no network.

Results files come from hosts we do not trust and datastreams can be tens of
megabytes, so everything streams through iterparse and clears what it has read.
"""

from __future__ import annotations

import bz2
import gzip
import io
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Generator, cast

from lxml import etree

from core.domain import limits

Source = str | Path | BinaryIO


class XmlError(Exception):
    """A file that is not well-formed, not what we expected, or hostile."""


MAX_XML_BYTES = 1 << 30  # 1 GiB of XML: ~70 ARFs; more is a decompression bomb, not results
# (limits.xml_bytes overrides it; see core/domain/limits.py)


class _Limited:
    """A reader that refuses to yield more than `limit` bytes (compressed files can explode)."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream, self.limit, self.left = stream, limit, limit

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.left -= len(data)
        if self.left < 0:
            raise XmlError(f"more than {self.limit:,} bytes of XML (decompressed); refusing it")
        return data

    def close(self) -> None:
        self.stream.close()


def open_maybe_compressed(source: Source) -> BinaryIO:
    """Open a path or wrap a binary stream, decompressing gzip or bzip2 by magic bytes; split
    evidence (core/evidence.py) reads as the ARF it was split from."""
    from core import evidence

    raw = open(source, "rb") if isinstance(source, (str, Path)) else source
    head = raw.peek(len(evidence.MAGIC))[:len(evidence.MAGIC)] if hasattr(raw, "peek") else None
    if head is None:
        start = raw.tell()
        head = raw.read(len(evidence.MAGIC))
        raw.seek(start)
    if head == evidence.MAGIC and isinstance(source, (str, Path)):
        return evidence.open_split(Path(source), raw)  # the exact ARF, joined again
    if head[:2] == b"\x1f\x8b":
        return _owning(gzip.GzipFile(fileobj=raw), raw, source)
    if head[:3] == b"BZh":
        return _owning(bz2.BZ2File(raw), raw, source)
    return raw


def _owning(reader: io.BufferedIOBase, raw: BinaryIO, source: Source) -> BinaryIO:
    """A decompressing reader that also closes the file under it when we opened that file
    (GzipFile and BZ2File leave it open); a caller's stream stays the caller's."""
    if isinstance(source, (str, Path)):
        close = reader.close

        def close_both() -> None:
            try:
                close()
            finally:
                raw.close()

        reader.close = close_both  # type: ignore[method-assign]  # this one reader closes both
    # typeshed's GzipFile and BZ2File are BufferedIOBase, binary files in all but name
    return cast(BinaryIO, reader)


def iterparse(
    source: Source, events: Iterable[str] = ("start", "end"), tag: str | Iterable[str] | None = None,
    limit: int | None = None,
) -> Generator[tuple[str, etree._Element], None, None]:
    """Stream (event, element) pairs from a possibly compressed file, safely."""
    limit = limits.current().xml_bytes if limit is None else limit
    stream = open_maybe_compressed(source)
    parser = etree.iterparse(
        _Limited(stream, limit),
        events=events,
        tag=tag,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for event, element in parser:
            yield event, element
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"not well-formed XML: {exc}") from None
    except (OSError, EOFError) as exc:  # truncated or corrupt gzip/bz2
        raise XmlError(f"cannot read compressed data: {exc}") from None
    finally:
        if stream is not source:
            stream.close()


def local_name(element: etree._Element) -> str:
    name: str = etree.QName(element).localname
    return name


def release(element: etree._Element) -> None:
    """Free a finished element and the siblings before it (keeps memory flat)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
