"""Text from a target or a file, made safe to show on a terminal.

A hostile host can put escape sequences in /etc/os-release, in oscap's output or in a
results file: replayed raw, they set the terminal title, clear the screen or write the
clipboard (OSC 52). neutralise() shows every C0 and C1 control character (except tab and
newline), DEL and the bidirectional overrides visibly as \\xNN / \\uNNNN, so what arrives is
what the operator reads, and nothing else happens.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str | None) -> str:
    """text with every control character shown as an escape; tab and newline kept."""
    if not text:
        return text or ""
    return _UNSAFE.sub(_visible, text)


def one_line(text: str | None, limit: int = 300) -> str:
    """neutralise(), on one line, at most limit characters: for error messages."""
    flat = " ".join(neutralise(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
