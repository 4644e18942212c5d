"""Explanations through the real openai client against a real HTTP server on loopback: the
stream, the cache, usage, every failure as one line with nothing half-cached, and the key."""

from __future__ import annotations

import json
import time

import pytest

from core.ai import explain as service
from core.ai.client import AiError
from core.ai.explain import explain, find_result
from core.ai.secrets import store_key
from core.domain.settings import AiSettings, config_path, save_ai_settings
from core.workspace import Workspace
from tests.ai.helpers import CONTENT, KEY, ROOT_LOGIN, SCAN_ID, files_containing, seed_scan
from tests.conftest import free_port


@pytest.fixture
async def workspace(data_dir, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    await seed_scan(data_dir)
    async with await Workspace.open(data_dir) as opened:
        yield opened


def settings(llm, **changes) -> AiSettings:
    return AiSettings(**({"base_url": llm.url, "model": "test-model", "timeout": 5.0} | changes))


async def ask(workspace, ai, rule_id=ROOT_LOGIN, regenerate=False):
    scan = await workspace.store.get_scan(SCAN_ID)
    result = await find_result(workspace.store, scan, rule_id)
    pieces: list[str] = []
    outcome = await explain(workspace.store, ai, scan, result, pieces.append, regenerate=regenerate)
    return outcome, pieces


async def test_streams_caches_and_counts(workspace, llm):
    outcome, pieces = await ask(workspace, settings(llm))
    assert not outcome.cached and len(pieces) > 10 and "".join(pieces) == llm.answer
    assert outcome.explanation.text == llm.answer and outcome.explanation.model == "test-model"
    (request,) = llm.chats
    assert request.body["stream"] is True and request.body["model"] == "test-model"
    assert request.body["stream_options"] == {"include_usage": True}
    assert "Disable SSH Root Login" in request.prompt and "web01" not in request.prompt
    usage = llm.usage_for(request.body, llm.answer)
    assert (outcome.explanation.input_tokens, outcome.explanation.output_tokens) == (
        usage["prompt_tokens"], usage["completion_tokens"])
    # asked again: the cache, instantly, with no request
    started = time.monotonic()
    again, pieces = await ask(workspace, settings(llm))
    assert again.cached and again.explanation.text == llm.answer and pieces == []
    assert time.monotonic() - started < 0.5 and len(llm.chats) == 1
    # another model is another explanation; Regenerate asks anew and replaces
    llm.answer = "## Regenerated\n\nnew text"
    other, _ = await ask(workspace, settings(llm, model="other-model"))
    assert not other.cached and len(llm.chats) == 2
    fresh, _ = await ask(workspace, settings(llm), regenerate=True)
    assert not fresh.cached and fresh.explanation.text == "## Regenerated\n\nnew text"
    assert (await workspace.store.get_explanation(CONTENT, ROOT_LOGIN, "fail", "test-model")).text == fresh.explanation.text
    (today,) = {u.day for u in await workspace.store.ai_usage()}
    counted = {u.model: u for u in await workspace.store.ai_usage()}
    assert counted["test-model"].requests == 2 and counted["other-model"].requests == 1
    assert counted["test-model"].input_tokens == 2 * usage["prompt_tokens"] and counted["test-model"].estimated == 0
    assert today == service.today()


async def test_a_server_without_usage_is_counted_from_the_stream(workspace, llm):
    llm.send_usage = False
    outcome, pieces = await ask(workspace, settings(llm))
    assert outcome.estimated
    (usage,) = await workspace.store.ai_usage()
    chunks = -(-len(llm.answer) // llm.piece)  # one token per streamed chunk (shown redacted, by words)
    assert "".join(pieces) == llm.answer
    assert usage.output_tokens == chunks and usage.input_tokens > 100 and usage.estimated == 1


async def test_the_key_goes_only_in_the_authorization_header(workspace, llm, memory_keyring):
    llm.api_key = KEY
    await ask(workspace, settings(llm))
    (request,) = llm.chats
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in request.path and KEY.encode() not in request.raw
    assert not [name for name, value in request.headers.items() if KEY in value and name != "authorization"]
    # and never in the data dir or the config file, whatever was saved
    save_ai_settings(settings(llm))
    store_key(KEY)
    await workspace.store.set_meta("probe", "x")  # a write after everything: WAL and db flushed
    assert files_containing(workspace.data_dir, KEY) == []
    assert KEY not in config_path().read_text()


async def test_a_local_server_needs_no_key(workspace, llm, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    outcome, _ = await ask(workspace, settings(llm))
    assert outcome.explanation.text == llm.answer
    assert llm.chats[0].headers["authorization"] == "Bearer no-key"


async def test_api_openai_com_needs_a_key(workspace, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(AiError, match="no API key for https://api.openai.com/v1: set OPENAI_API_KEY"):
        await ask(workspace, AiSettings(None, "gpt-4o-mini"))
    with pytest.raises(AiError, match="no LLM is configured"):
        await ask(workspace, AiSettings())


FAILURES = [
    ("401", {}, r"refused the API key \(401 Unauthorized; the key comes from \$OPENAI_API_KEY\)"),
    ("ok", {"model": "no-such-model"}, r"model 'no-such-model' not found at http://127\.0\.0\.1:\d+/v1 \(404: "
                                       r"The model `no-such-model` does not exist\): check the model name"),
    ("close", {}, "closed the connection before the answer was complete; nothing was kept"),
    ("no-finish", {}, "ended the stream before the answer was complete"),
    ("empty", {}, "sent an empty answer"),
    ("malformed", {}, "malformed answer"),
    ("hang", {"timeout": 0.5}, r"did not answer within 0\.5 s"),
]


@pytest.mark.parametrize("mode, changes, message", FAILURES, ids=[f[0] + str(i) for i, f in enumerate(FAILURES)])
async def test_failures_are_one_line_and_nothing_is_cached(workspace, llm, mode, changes, message):
    llm.mode = mode
    with pytest.raises(AiError, match=message) as caught:
        await ask(workspace, settings(llm, **changes))
    assert "\n" not in str(caught.value) and KEY not in str(caught.value)
    assert await workspace.store.get_explanation(CONTENT, ROOT_LOGIN, "fail", changes.get("model", "test-model")) is None
    # and the next ask works
    llm.mode = "ok"
    outcome, _ = await ask(workspace, settings(llm))
    assert outcome.explanation.text == llm.answer


async def test_unreachable(workspace):
    ai = AiSettings(f"http://127.0.0.1:{free_port()}/v1", "test-model", 2)
    with pytest.raises(AiError, match=r"cannot reach the LLM at http://127\.0\.0\.1:\d+/v1: "):
        await ask(workspace, ai)
    assert await workspace.store.ai_usage() == []  # nothing was spent


async def test_429_waits_for_retry_after_once(workspace, llm):
    llm.mode, llm.retry_after = "429", "1"
    started = time.monotonic()
    outcome, _ = await ask(workspace, settings(llm))
    assert time.monotonic() - started >= 0.95 and len(llm.chats) == 2
    assert outcome.explanation.text == llm.answer
    llm.rate_limits, llm._limited = 2, 0  # still limited after the one retry
    with pytest.raises(AiError, match=r"still rate limiting \(429: Rate limit reached for requests\) after one retry"):
        await ask(workspace, settings(llm), regenerate=True)
    assert len(llm.chats) == 4
    llm.retry_after, llm._limited = "120", 0  # too long to wait: said at once
    started = time.monotonic()
    with pytest.raises(AiError, match="asks to wait 120 s"):
        await ask(workspace, settings(llm), regenerate=True)
    assert time.monotonic() - started < 1 and len(llm.chats) == 5


async def test_the_check_action(workspace, llm):
    report = await service.check(workspace.store, settings(llm))
    assert report.reply == "OK" and report.models == ["other-model", "test-model"] and report.seconds < 5
    assert report.key == "••••" + KEY[-4:] and report.url == llm.url and report.models_error is None
    (request,) = llm.chats
    assert request.body.get("stream") in (None, False)
    assert [r.path for r in llm.requests] == ["/v1/chat/completions", "/v1/models"]
    llm.list_models = False
    assert (await service.check(workspace.store, settings(llm))).models is None
    assert (await workspace.store.ai_usage())[0].requests == 2
    llm.mode = "401"
    with pytest.raises(AiError, match="401"):
        await service.check(workspace.store, settings(llm))


async def test_explanations_keep_what_the_model_wrote(workspace, llm):
    llm.answer = "## Title [bold red]x[/]\n\n\x1b]52;c;ZXZpbA==\x07 and `code`"
    outcome, pieces = await ask(workspace, settings(llm))
    assert "".join(pieces) == llm.answer  # shown neutralised by the TUI and the CLI, kept exactly
    assert json.loads(json.dumps(outcome.explanation.text)) == llm.answer
