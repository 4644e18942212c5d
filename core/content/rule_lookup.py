"""Does installed content define a rule? A byte search for the Rule's id attribute.

Parsing every datastream for its rules takes minutes; finding ` id="<rule id>"` in the files
takes well under a second (the files are in the page cache after discovery). Only a Rule
carries a rule id as its own id, so a hit is the rule's definition.
"""

from __future__ import annotations

import bz2
import mmap
from pathlib import Path
from typing import Iterable

CHUNK = 1 << 20
MAX_UNPACKED = 1 << 30  # a bz2 datastream unpacks to tens of MB; more is not content


def defines_rule(path: Path, rule_id: str) -> bool:
    """Whether this datastream (plain or bz2) defines the rule; an unreadable file does not."""
    needle = f' id="{rule_id}"'.encode()
    try:
        if Path(path).name.endswith(".bz2"):
            with bz2.open(path, "rb") as stream:
                return _stream_has(stream, needle)
        with open(path, "rb") as file:
            if Path(path).stat().st_size == 0:
                return False
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return data.find(needle) >= 0
    except (OSError, EOFError, ValueError):
        return False


def _stream_has(stream: bz2.BZ2File, needle: bytes) -> bool:
    tail, read = b"", 0
    while read < MAX_UNPACKED and (block := stream.read(CHUNK)):
        if needle in tail + block:
            return True
        tail, read = block[-len(needle):], read + len(block)
    return False


def any_defines_rule(paths: Iterable[Path], rule_id: str) -> bool:
    return any(defines_rule(path, rule_id) for path in paths)
