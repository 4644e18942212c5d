"""What the LLM server may send: at most a number of bytes per HTTP response (framing
included: an endless stream, or one endless line, cannot grow our memory), and its text shown
only redacted, even when a secret arrives split over several streamed pieces.

The byte bound sits in an httpx response hook, so it holds for every request the openai
package makes (streamed answers, the Test action, the model list, error bodies).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import openai

from core.domain.text import redact


class ResponseTooLarge(Exception):
    """The server sent more bytes in one response than the bound."""


_counting_classes: dict[type, type] = {}


def _counting_stream(stream: Any, limit: int) -> Any:
    """stream wrapped so that reading past limit bytes raises ResponseTooLarge. It subclasses
    the AsyncByteStream of whichever httpx the openai package uses (httpx or httpx2)."""
    base = next(c for c in type(stream).__mro__ if c.__name__ == "AsyncByteStream")
    wrapper = _counting_classes.get(base)
    if wrapper is None:
        wrapper = _counting_classes[base] = type("CountingStream", (base,), {
            "__init__": _init, "__aiter__": _aiter, "aclose": _aclose})
    return wrapper(stream, limit)


def _init(self: Any, inner: Any, limit: int) -> None:
    self.inner, self.limit, self.seen = inner, limit, 0


async def _aiter(self: Any) -> AsyncIterator[bytes]:
    async for block in self.inner:
        self.seen += len(block)
        if self.seen > self.limit:
            raise ResponseTooLarge(f"more than {self.limit} bytes")
        yield block


async def _aclose(self: Any) -> None:
    await self.inner.aclose()


def bounded_http_client(limit: int) -> openai.DefaultAsyncHttpxClient:
    """The openai package's default async HTTP client, each response body bounded to limit bytes."""
    async def bound(response: Any) -> None:  # an httpx (or httpx2) Response
        response.stream = _counting_stream(response.stream, limit)

    return openai.DefaultAsyncHttpxClient(event_hooks={"response": [bound]})


class StreamRedactor:
    """Redacts streamed text: the last two words are held back until more text (or the end)
    comes, so a key split over pieces ("Bearer " then "sk-..." in halves) is still seen whole."""

    HOLD_MAX = 4096  # a "word" longer than this is let through (redacted as it stands)

    def __init__(self, key: str | None):
        self.key = key
        self.pending = ""

    def feed(self, text: str) -> str:
        self.pending += text
        cut = _hold_from(self.pending)
        if len(self.pending) - cut > self.HOLD_MAX:
            cut = len(self.pending)
        ready, self.pending = self.pending[:cut], self.pending[cut:]
        return redact(ready, self.key)

    def flush(self) -> str:
        ready, self.pending = self.pending, ""
        return redact(ready, self.key)


_LABEL = re.compile(r"(?i)^(?:bearer|basic|[:=]+|[\"'{(]*[\w-]*(?:key|token|secret|password|passwd|authorization)"
                    r"[\"']?[:=]*[\"']?)$")


def _hold_from(text: str) -> int:
    """Where the held-back tail of text begins: its last two words, and before them any word
    that labels a secret ("Bearer", "api_key:", "password", "=") so a pair is redacted whole."""
    end, words = len(text), 0
    while end > 0:
        start = end
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        words += 1
        if words > 2 and not _LABEL.match(text[start:end]):
            return end_of(text, end)
        end = start
        while end > 0 and text[end - 1].isspace():
            end -= 1
    return 0


def end_of(text: str, end: int) -> int:
    """The position after the whitespace that follows position end."""
    while end < len(text) and text[end].isspace():
        end += 1
    return end
