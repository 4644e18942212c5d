"""Explain one rule result: from the cache, or streamed from the LLM and then cached whole.

A request that fails or is cancelled half-way keeps nothing but its usage (the server may have
spent tokens on it). The CLI and the TUI both call explain() and check() (the Test action).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Protocol

from core.ai.client import AiError, Answer, Endpoint, LlmClient, Sleep
from core.ai.prompt import Subject, build_messages, subject_for
from core.ai.secrets import ENV_KEY, ApiKey, find_key_async
from core.domain import limits
from core.domain.errors import NotFound
from core.domain.explanations import Explanation
from core.domain.models import RuleInfo, RuleResult, Scan
from core.domain.settings import AiSettings, safe_url
from core.domain.text import one_line, redact
from core.store.base import AiStore, ContentStore, HostStore, ScanStore

RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"
NOT_CONFIGURED = ("no LLM is configured: name a model in Settings, in the config file's [ai] table "
                  "or in $COMPLIANCE_TUI_LLM_MODEL (see docs/ai.md)")


class ExplainStore(AiStore, ContentStore, HostStore, Protocol):
    """What explaining a result reads and writes: the cache, the rule's texts and its host."""


@dataclass(frozen=True)
class Outcome:
    explanation: Explanation
    cached: bool
    seconds: float = 0.0
    estimated: bool = False  # usage counted from the stream
    truncated: bool = False  # the model stopped at its length limit


@dataclass(frozen=True)
class CheckReport:
    url: str
    model: str
    key: str  # masked
    key_source: str  # OPENAI_API_KEY, keyring or none
    reply: str
    seconds: float
    models: list[str] | None
    models_error: str | None = None

    def lines(self) -> list[str]:
        """What a Test shows, for the CLI and the Settings screen alike."""
        lines = [
            f"endpoint    {self.url}",
            f"model       {self.model}",
            f"API key     {self.key} ({'not set' if self.key_source == 'none' else 'from ' + self.key_source})",
            f"reply       {one_line(self.reply, 200) or '(empty)'}",
            f"round trip  {self.seconds:.2f} s",
        ]
        if self.models is not None:
            lines.append(f"models      {', '.join(self.models[:20]) or '(none)'}"
                         + (f" … {len(self.models)} in all" if len(self.models) > 20 else ""))
            if self.model not in self.models:
                lines.append(f"note        {self.model!r} is not in the server's model list")
        else:
            lines.append(f"models      {self.models_error or 'the server offers no model list'}")
        return lines


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


async def endpoint(ai: AiSettings, key: ApiKey | None = None) -> Endpoint:
    if not ai.configured:
        raise AiError(NOT_CONFIGURED)
    return Endpoint(ai, key or await find_key_async())


async def find_result(store: ScanStore, scan: Scan, rule_id: str) -> RuleResult:
    """A rule of the scan by its full id or the short one (without the SSG prefix)."""
    wanted = {rule_id, RULE_PREFIX + rule_id}
    for found in await store.rule_results(scan.id, search=rule_id):
        if found.rule_id in wanted:
            return found
    raise NotFound(f"scan {scan.short_id} has no result for rule {rule_id!r}; "
                   f"see `compliance-tui results {scan.short_id}`")


async def subject(store: ExplainStore, scan: Scan, result: RuleResult) -> Subject:
    info = None
    if scan.content_id:
        info = await store.rule_info(scan.content_id, result.rule_id)
    if info is None:  # ids only (an import without the benchmark): explain what is known
        info = RuleInfo(result.rule_id, result.title, result.severity)
    host = await store.get_host(scan.host_name)
    return subject_for(scan, host, info, result.result)


async def cached(store: AiStore, ai: AiSettings, scan: Scan, result: RuleResult) -> Explanation | None:
    """The cached explanation, at most limit llm_answer_chars of it (an older version kept
    answers of any size: stored_chars then says how long it is), redacted."""
    if not (ai.configured and scan.content_id):
        return None
    assert ai.model is not None  # configured
    found = await store.get_explanation(scan.content_id, result.rule_id, result.result, ai.model,
                                        limit=limits.current().llm_answer_chars)
    if found is None:
        return None
    return replace(found, text=redact(found.text, os.environ.get(ENV_KEY)))


def cut_note(found: Explanation) -> str | None:
    """One line when only the start of a cached explanation is shown."""
    if not found.stored_chars:
        return None
    return (f"only the first {len(found.text):,} of this cached answer's {found.stored_chars:,} characters "
            "are shown (more than an answer may be now); regenerate it to replace it")


async def explain(
    store: ExplainStore, ai: AiSettings, scan: Scan, result: RuleResult, on_text: Callable[[str], None],
    regenerate: bool = False, sleep: Sleep = asyncio.sleep,
) -> Outcome:
    """The cached explanation, or a new one streamed through on_text and then cached."""
    if not regenerate:
        found = await cached(store, ai, scan, result)
        if found is not None:
            return Outcome(found, cached=True)
    point = await endpoint(ai)
    messages = build_messages(await subject(store, scan, result))
    answer = Answer()
    async with LlmClient(point, sleep=sleep) as client:
        try:
            await client.stream(messages, on_text, answer)
        finally:
            if answer.started:  # spent, whether or not the answer is whole
                await asyncio.shield(_count(store, point.model, answer))
    text = answer.text
    truncated = answer.finish_reason == "length"
    if truncated:
        text = text.rstrip() + "\n\n_(The model stopped at its length limit; the answer may be cut short.)_"
    explanation = Explanation(scan.content_id or "", result.rule_id, result.result, point.model, text,
                              input_tokens=answer.usage.input_tokens, output_tokens=answer.usage.output_tokens)
    if scan.content_id:  # rule texts known by content version: only then can it be cached
        explanation = await store.save_explanation(explanation)
    return Outcome(explanation, False, answer.seconds, not answer.usage.reported, truncated)


async def _count(store: AiStore, model: str, answer: Answer) -> None:
    usage = answer.usage
    await store.record_ai_usage(today(), model, usage.input_tokens, usage.output_tokens,
                                estimated=not usage.reported)


async def check(store: AiStore, ai: AiSettings, key: ApiKey | None = None, sleep: Sleep = asyncio.sleep,
                ) -> CheckReport:
    """One small request (not streamed), the server's model list, and the round trip; key: one
    typed in Settings and not stored yet."""
    point = await endpoint(ai, key)
    messages = [{"role": "user", "content": "Reply with the single word OK."}]
    async with LlmClient(point, sleep=sleep) as client:
        answer = await client.complete(messages)
        await _count(store, point.model, answer)
        models, problem = None, None
        try:
            models = await client.models()
        except AiError as exc:  # the answer came back: a missing list is only a note
            problem = str(exc)
    return CheckReport(safe_url(point.url), point.model, point.key.masked(), point.key.source,
                      answer.text.strip(), answer.seconds, models, problem)
