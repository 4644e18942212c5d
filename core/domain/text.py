"""Text from a target or a file, made safe to show on a terminal.

A hostile host can put escape sequences in /etc/os-release, in oscap's output or in a
results file: replayed raw, they set the terminal title, clear the screen or write the
clipboard (OSC 52). neutralise() shows every C0 and C1 control character (except tab and
newline), DEL and the bidirectional overrides visibly as \\xNN / \\uNNNN, so what arrives is
what the operator reads, and nothing else happens.
"""

from __future__ import annotations

import logging
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


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """JSON text (from json.dumps(ensure_ascii=False)) with C1 controls and bidirectional
    overrides escaped as \\uNNNN: still the same data to a JSON reader, inert on a terminal
    (json.dumps escapes C0 controls itself)."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class NeutralFormatter(logging.Formatter):
    """Log records, tracebacks included, with control characters shown visibly: a message
    may carry what a target sent, and logs end up on terminals (journalctl, tail)."""

    def format(self, record: logging.LogRecord) -> str:
        return neutralise(super().format(record))
