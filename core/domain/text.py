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


def _visible(match: re.Match[str]) -> str:
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


HIDDEN = "***"
# What a secret looks like when a server repeats it: a credential after an auth scheme, a
# key=value (or "key": "value") pair named like one, and the key shapes of the big providers.
_SECRET_SHAPES = re.compile(
    r"(?i)(?P<scheme>\bbearer\s+)[A-Za-z0-9._~+/=:-]{6,}"
    r"|(?P<basic>\bBasic\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2}"
    r"|(?P<pair>\b(?:[a-z0-9]*[_-])?(?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|secret[_-]?key"
    r"|client[_-]?secret|password|passwd|authorization)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?)"
    r"[^\s\"',;&<>)}\]]{8,}"
    r"|\b(?:sk|pk|rk)[-_](?:live[-_]|test[-_]|proj[-_]|ant[-_])?[A-Za-z0-9_-]{12,}"
    r"|\b(?:ghp|gho|ghu|ghs|ghr|github_pat|glpat|xox[abposr]|hf|gsk|xai)[-_][A-Za-z0-9_-]{12,}"
    r"|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_-]{30,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
)


def _hide(match: re.Match[str]) -> str:
    prefix = match.group("scheme") or match.group("basic") or match.group("pair")
    return (prefix or "") + HIDDEN


def redact(text: str | None, *known: str | None) -> str:
    """text with each known secret (the configured API key, a password) and anything shaped
    like a bearer token or an API key replaced by ***: for whatever a server or a store says."""
    if not text:
        return text or ""
    for secret in known:
        if secret and len(secret) >= 4:
            text = text.replace(secret, HIDDEN)
    return _SECRET_SHAPES.sub(_hide, text)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_safe(text: str) -> str:
    """JSON text (from json.dumps(ensure_ascii=False)) with C1 controls and bidirectional
    overrides escaped as \\uNNNN: still the same data to a JSON reader, inert on a terminal
    (json.dumps escapes C0 controls itself)."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class NeutralFormatter(logging.Formatter):
    """Log records, tracebacks included, with control characters shown visibly and anything
    shaped like a secret redacted: a message may carry what a target or a server sent, and logs
    end up on terminals (journalctl, tail)."""

    def format(self, record: logging.LogRecord) -> str:
        return neutralise(redact(super().format(record)))
