"""What the AI assistant keeps: explanations (cached per rule, content, result and model) and
token usage per day and model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    content_id: str  # sha256 of the datastream: the rule texts the prompt was built from
    rule_id: str
    result: str
    model: str
    text: str  # Markdown, as the model wrote it (untrusted: shown without markup)
    created_at: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    stored_chars: int | None = None  # set when only the start of a longer stored text was read


@dataclass(frozen=True)
class AiUsage:
    day: str  # UTC, YYYY-MM-DD
    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: int = 0  # requests whose server reported no usage: tokens counted from the stream
