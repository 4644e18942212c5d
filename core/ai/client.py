"""The LLM over HTTP through the openai package, for any OpenAI-compatible server (OpenAI,
Ollama, vLLM, LM Studio, llama.cpp's server, LiteLLM), and every failure as one line.

The openai client retries nothing here (max_retries=0): a 429 is retried once, after the
server's Retry-After, and every other error goes straight to the operator.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, cast

import openai

from core.ai.bounds import ResponseTooLarge, StreamRedactor, bounded_http_client
from core.ai.prompt import Message, estimate_tokens
from core.ai.secrets import ENV_KEY, ApiKey
from core.domain import limits
from core.domain.errors import OperatorError
from core.domain.limits import size
from core.domain.settings import OPENAI_URL, AiSettings, safe_url
from core.domain.text import one_line, redact

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

KEYLESS = "no-key"  # local servers need none; the openai client insists on some value
MAX_RETRY_WAIT = 60.0  # a longer Retry-After is reported, not waited for
Sleep = Callable[[float], Awaitable[None]]


class AiError(OperatorError):
    """A failure of the LLM request, one line, never with the key in it."""


@dataclass(frozen=True)
class Endpoint:
    settings: AiSettings
    key: ApiKey

    @property
    def url(self) -> str:
        return self.settings.url

    @property
    def model(self) -> str:
        return self.settings.model or ""


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    reported: bool = False  # False: counted from the stream (the server sent no usage)


@dataclass
class Answer:
    text: str = ""
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    seconds: float = 0.0
    started: bool = False  # the server accepted the request (tokens may have been spent)


class LlmClient:
    def __init__(self, endpoint: Endpoint, sleep: Sleep = asyncio.sleep) -> None:
        self.endpoint = endpoint
        self._sleep = sleep
        if endpoint.settings.base_url is None and not endpoint.key.value:
            raise AiError(f"no API key for {OPENAI_URL}: set {ENV_KEY}, or store one in Settings "
                          "(or `compliance-tui ai set-key`); a local server needs a base URL")
        self._limits = limits.current()
        self._deadline: asyncio.Timeout | None = None  # of the request under way
        self._client = openai.AsyncOpenAI(
            base_url=self.endpoint.url, api_key=endpoint.key.value or KEYLESS,
            timeout=endpoint.settings.timeout, max_retries=0,
            http_client=bounded_http_client(self._limits.llm_response_bytes))

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> "LlmClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---------------------------------------------------------------- requests

    async def stream(self, messages: list[Message], on_text: Callable[[str], None], answer: Answer) -> Answer:
        """Stream a chat completion, calling on_text with each piece (redacted); fills answer as
        it goes (so a caller sees what was spent even when this raises). The whole answer must
        arrive within the timeout and the size bound, or nothing of it is kept."""
        start = time.monotonic()
        try:
            async with asyncio.timeout(self.endpoint.settings.timeout) as self._deadline:
                await self._stream(messages, on_text, answer)
        except Exception as exc:
            raise self._error(exc, answer.started) from None
        answer.seconds = time.monotonic() - start
        if answer.finish_reason is None:
            raise AiError("the LLM server ended the stream before the answer was complete; "
                          "nothing was kept: try again")
        if not answer.text.strip():
            raise AiError(f"the LLM server sent an empty answer (model {self.endpoint.model!r}); "
                          "try again or choose another model")
        return answer

    async def _stream(self, messages: list[Message], on_text: Callable[[str], None], answer: Answer) -> None:
        stream = await self._create_stream(messages)
        answer.started = True
        pieces, most = 0, self._limits.llm_answer_chars
        redactor = StreamRedactor(self.endpoint.key.value)
        received = 0
        try:
            async for chunk in stream:
                usage = getattr(chunk, "usage", None)  # a server may send chunks without the field
                if usage and usage.completion_tokens is not None:
                    answer.usage = Usage(usage.prompt_tokens or 0, usage.completion_tokens, True)
                for choice in chunk.choices or ():
                    text = choice.delta.content if choice.delta else None
                    if text:
                        pieces += 1
                        received += len(text)
                        if received > most:
                            raise AiError(f"the LLM's answer passed {most:,} characters, the most kept; it was "
                                          "stopped and nothing was kept (limit llm_answer_chars, docs/security.md)")
                        _emit(redactor.feed(text), answer, on_text)
                    if choice.finish_reason:
                        answer.finish_reason = choice.finish_reason
            _emit(redactor.flush(), answer, on_text)
        finally:
            await stream.close()
            if not answer.usage.reported:
                prompt = "".join(m["content"] for m in messages)
                answer.usage = Usage(estimate_tokens(prompt), pieces, False)

    async def _create_stream(self, messages: list[Message]) -> openai.AsyncStream[ChatCompletionChunk]:
        """The streamed request; a server that refuses an option (usage in streams, max_tokens
        under that name) is asked again without it."""
        options: dict[str, Any] = {"stream_options": {"include_usage": True}, "max_tokens": self._limits.llm_answer_tokens}
        for _attempt in range(2):
            try:
                stream: openai.AsyncStream[ChatCompletionChunk] = await self._create(messages, stream=True, **options)
                return stream
            except openai.BadRequestError as exc:
                said = str(exc)
                if "stream_options" in said and "stream_options" in options:
                    del options["stream_options"]
                elif "max_tokens" in said and "max_tokens" in options:
                    options["max_completion_tokens"] = options.pop("max_tokens")
                else:
                    raise
        stream = await self._create(messages, stream=True, **options)
        return stream

    async def complete(self, messages: list[Message]) -> Answer:
        """One short answer, not streamed (the Test action), within the timeout."""
        start = time.monotonic()
        answer = Answer()
        try:
            async with asyncio.timeout(self.endpoint.settings.timeout) as self._deadline:
                response: ChatCompletion = await self._create(messages, stream=False)  # its size: the byte bound
            answer.started = True
            choice = response.choices[0] if response.choices else None
            text = (choice.message.content or "") if choice and choice.message else ""
            answer.text = redact(text[: self._limits.llm_answer_chars], self.endpoint.key.value)
            answer.finish_reason = choice.finish_reason if choice else None
            usage = response.usage
            if usage is not None and usage.completion_tokens is not None:
                answer.usage = Usage(usage.prompt_tokens or 0, usage.completion_tokens, True)
            else:
                answer.usage = Usage(estimate_tokens("".join(m["content"] for m in messages)),
                                     estimate_tokens(answer.text), False)
        except Exception as exc:
            raise self._error(exc, answer.started) from None
        answer.seconds = time.monotonic() - start
        return answer

    async def models(self) -> list[str] | None:
        """The server's model ids from /v1/models; None where it offers no list."""
        try:
            async with asyncio.timeout(self.endpoint.settings.timeout):
                page = await self._client.models.list()
            return sorted({one_line(m.id, 120) for m in page.data if getattr(m, "id", None)})[:1000]
        except openai.NotFoundError:
            return None
        except Exception as exc:
            raise self._error(exc, False) from None

    async def _create(self, messages: list[Message], **options: Any) -> Any:
        """chat.completions.create, once more after a 429 when the server says how long to wait:
        a ChatCompletion, or with stream=True an AsyncStream of ChatCompletionChunks."""
        call = self._client.chat.completions.create
        # each message is a role and its text: the shape of the system and user message params
        params = cast("list[ChatCompletionMessageParam]", messages)
        try:
            return await call(model=self.endpoint.model, messages=params, **options)
        except openai.RateLimitError as exc:
            wait = retry_after(exc.response.headers if exc.response is not None else {})
            if wait > MAX_RETRY_WAIT:
                raise AiError(f"the LLM server is rate limiting (429) and asks to wait {wait:.0f} s; "
                              "try again later") from None
            # the wait the server asks for is not the answer's time
            if self._deadline is not None and (when := self._deadline.when()) is not None:
                self._deadline.reschedule(when + wait)
            await self._sleep(wait)
            return await call(model=self.endpoint.model, messages=params, **options)

    # ---------------------------------------------------------------- errors

    def _error(self, exc: Exception, started: bool) -> Exception:
        if isinstance(exc, asyncio.CancelledError):
            return exc
        found = exc if isinstance(exc, AiError) else self._explained(exc, started)
        if not isinstance(found, AiError):
            return found
        return AiError(redact(str(found), self.endpoint.key.value))  # whatever the server repeated

    def _explained(self, exc: Exception, started: bool) -> Exception:
        url, model = safe_url(self.endpoint.url), self.endpoint.model
        said = _server_message(exc)
        if _caused_by(exc, ResponseTooLarge):
            return AiError(f"the LLM server sent more than {size(self._limits.llm_response_bytes)} in one "
                           "response; it was stopped and nothing was kept (limit llm_response_bytes, docs/security.md)")
        if isinstance(exc, TimeoutError) and started:  # ours: the whole answer, not one read
            return AiError(f"the LLM at {url} did not finish its answer within {self.endpoint.settings.timeout:g} s "
                           "(the timeout in Settings covers the whole answer); it was stopped and nothing was kept")
        if isinstance(exc, openai.AuthenticationError):
            where = {"none": "no API key is set", "keyring": "the key comes from the OS keyring"}.get(
                self.endpoint.key.source, f"the key comes from ${ENV_KEY}")
            return AiError(f"the LLM server refused the API key (401 Unauthorized; {where}): "
                           "check the key in Settings or the environment")
        if isinstance(exc, openai.PermissionDeniedError):
            return AiError(f"the LLM server denied access (403{said})")
        if isinstance(exc, openai.NotFoundError):
            return AiError(f"model {model!r} not found at {url} (404{said}): check the model name "
                           "(`compliance-tui ai test` lists the server's models) and the base URL "
                           "(it usually ends in /v1)")
        if isinstance(exc, openai.RateLimitError):
            return AiError(f"the LLM server is still rate limiting (429{said}) after one retry; try again later")
        if isinstance(exc, openai.APIStatusError):
            return AiError(f"the LLM server answered {exc.status_code}{said or ' (no reason given)'}")
        if isinstance(exc, (openai.APITimeoutError, TimeoutError)):
            return AiError(f"the LLM at {url} did not answer within {self.endpoint.settings.timeout:g} s "
                           "(the timeout in Settings); nothing was kept")
        if isinstance(exc, openai.APIConnectionError):
            if started:
                return AiError("the LLM server closed the connection before the answer was complete; "
                               "nothing was kept: try again")
            cause = exc.__cause__ or exc.__context__
            return AiError(f"cannot reach the LLM at {url}: {one_line(str(cause or exc), 160)}")
        if isinstance(exc, openai.APIError):
            return AiError(f"the LLM server reported an error{said or ': ' + one_line(exc.message, 200)}")
        if isinstance(exc, (json.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError, IndexError)):
            return AiError("the LLM server sent a malformed answer (not chat-completions JSON); "
                           "nothing was kept: is the base URL an OpenAI-compatible API?")
        return exc


def _emit(text: str, answer: Answer, on_text: Callable[[str], None]) -> None:
    if text:
        answer.text += text
        on_text(text)


def _caused_by(exc: BaseException | None, kind: type) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _server_message(exc: Exception) -> str:
    """': what the server said' from an OpenAI-style error body, on one short line."""
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
    return f": {one_line(str(message), 200).rstrip('.')}" if message else ""


def retry_after(headers: Mapping[str, str]) -> float:
    """Seconds a 429 asks to wait: retry-after-ms, Retry-After in seconds or as a date; 2 s
    when it says nothing."""
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        pass
    return 2.0
