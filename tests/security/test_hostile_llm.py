"""A hostile LLM server (issue 22, items 1 and 2): an answer that never ends, drips, is huge or
is one endless line is stopped at its bound (size or the whole answer's time) with one line and
nothing cached; an old cache's 50 MB row is shown bounded, in the CLI and in the TUI without
stalling its event loop; an error page that repeats the request's Authorization header never
puts the key on a terminal. Real CLI processes against the loopback server of tests/ai."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import keyring
import pytest
from keyring.backends import fail

from core.domain.settings import config_path
from tests.ai.helpers import (
    AI_ENV,
    CONTENT,
    KEY,
    ROOT_LOGIN,
    SCAN_ID,
    files_containing,
    seed_scan,
    write_config,
)
from tests.ai.llm_server import LlmServer
from tests.security.conftest import measured

RULE = "sshd_disable_root_login"
ANSWER_BOUND = 64 * 1024  # characters: limit llm_answer_chars
# An `explain` process measured 84 MiB peak with a normal answer and with each attack below
# (100 MiB with a 16 MiB line); before the bounds, 332 MiB after 40 s and growing.
RSS_BOUND_MIB = 150
TIMEOUT = 5  # [ai] timeout of these tests


@pytest.fixture
def llm(monkeypatch, tmp_path):
    for name in AI_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    keyring.set_keyring(fail.Keyring())  # as on this machine: no OS keyring
    server = LlmServer().start()
    write_config(config_path(), server.url, timeout=TIMEOUT)
    yield server
    server.stop()


@pytest.fixture
async def seeded(data_dir):
    await seed_scan(data_dir)
    return data_dir


def env(llm) -> dict:
    """The key in the environment; the server, model and timeout from the test's config file."""
    return {name: "" for name in AI_ENV} | {"OPENAI_API_KEY": KEY, "COMPLIANCE_TUI_CONFIG": str(config_path())}


def cached_rows(data_dir) -> int:
    with sqlite3.connect(data_dir / "compliance.db") as db:
        return db.execute("SELECT COUNT(*) FROM ai_explanations").fetchone()[0]


def explain(cli, llm, *extra: str):
    """`explain` as its own process: (result, peak RSS in MiB, seconds from the request's arrival
    at the server to the process's end)."""
    done, peak = measured(cli, "explain", SCAN_ID[:8], RULE, *extra, env=env(llm), timeout=120)
    ended = time.monotonic()
    took = ended - llm.chats[-1].at if llm.chats else 0.0
    return done, peak, took


def one_error_line(done, *fragments: str) -> str:
    assert done.returncode == 1, done.stderr
    line = done.stderr
    assert line.startswith("error: ") and line.count("\n") == 1, line
    for fragment in fragments:
        assert fragment in line, line
    assert KEY not in done.stdout + done.stderr
    return line


@pytest.mark.parametrize("attack", ["endless", "huge", "oneline"])
def test_22_1_endless_llm_stream_is_cut_at_the_bound(cli, seeded, llm, attack):
    """Endless pieces, a 50 MB answer, and one SSE line that never ends: each stops at its
    bound (64 KiB of text, 16 MiB of response) with one line; nothing is cached."""
    llm.piece = 1200
    if attack == "huge":
        llm.huge_chars = 50_000_000
    else:
        llm.mode = attack
    done, peak, took = explain(cli, llm)
    if attack == "oneline":
        one_error_line(done, "sent more than 16.0 MiB in one response", "nothing was kept")
    else:
        one_error_line(done, f"passed {ANSWER_BOUND:,} characters", "nothing was kept")
        assert len(done.stdout) <= ANSWER_BOUND + 1
    assert peak < RSS_BOUND_MIB, f"{attack}: peak RSS {peak:.0f} MiB"
    assert took < TIMEOUT + 2, f"{attack}: {took:.1f} s"
    assert cached_rows(seeded) == 0
    (request,) = llm.chats
    assert request.body["max_tokens"] == 4096  # asked of the model too


def test_22_1_a_drip_is_bounded_by_the_timeout_of_the_whole_answer(cli, seeded, llm):
    """One piece every 3 s, each read well within the 5 s timeout: the answer as a whole is
    given up at 5 s."""
    llm.mode, llm.delay, llm.piece = "endless", 3.0, 12
    done, peak, took = explain(cli, llm)
    one_error_line(done, f"did not finish its answer within {TIMEOUT} s", "covers the whole answer",
                   "nothing was kept")
    assert TIMEOUT - 0.5 < took < TIMEOUT + 2, f"{took:.1f} s"
    assert peak < RSS_BOUND_MIB and cached_rows(seeded) == 0
    llm.mode, llm.delay = "ok", 0.0  # a whole answer within the bound is cached, as before
    assert cli.ok("explain", SCAN_ID[:8], RULE, env=env(llm)).stdout == llm.answer
    assert cached_rows(seeded) == 1


def _plant_huge_row(data_dir, size: int) -> str:
    """An older version cached answers of any size: a 50 MB row (16,000,000 list items of
    Markdown, the most a Markdown view chokes on), planted as it would have been stored."""
    text = "- x\n" * (size // 4)
    with sqlite3.connect(data_dir / "compliance.db") as db:
        db.execute("INSERT INTO ai_explanations (content_id, rule_id, result, model, text, input_tokens, "
                   "output_tokens, created_at) VALUES (?, ?, 'fail', 'test-model', ?, 1, 1, "
                   "'2025-03-01T10:00:00.000000Z')", (CONTENT, ROOT_LOGIN, text))
    return text


def test_22_1_a_50_mb_cached_answer_is_shown_bounded_by_the_cli(cli, seeded, llm):
    _plant_huge_row(seeded, 50_000_000)
    done, peak, _ = explain(cli, llm)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) <= ANSWER_BOUND + 1 and not llm.chats
    assert "only the first 65,536 of this cached answer's 50,000,000 characters are shown" in done.stderr
    # the row is read in SQLite's own memory (50 MB), never turned into Python text whole: 176 MiB
    # measured, where showing it whole took 3.4 GB
    assert peak < RSS_BOUND_MIB + 100, f"peak RSS {peak:.0f} MiB"


async def test_22_1_a_50_mb_cached_answer_never_stalls_the_tui(seeded, llm, monkeypatch):
    """The Explain modal on that row: the event loop keeps ticking (a hardening job's heartbeat
    lives there), the answer is shown as plain text, bounded, with the note."""
    from textual.widgets import Static, TextArea

    import core.ai.explain  # noqa: F401 (loaded by the first Explain; here its import is not measured)
    from core.ai.explain import find_result
    from tests.tui.helpers import make_app
    from tui.modals.explain import ExplainModal

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    await asyncio.to_thread(_plant_huge_row, seeded, 50_000_000)
    app = make_app(seeded)
    gaps: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        scan = await app.workspace.store.get_scan(SCAN_ID)
        result = await find_result(app.workspace.store, scan, RULE)
        running = True

        # a gap counts as long as this process computed during it: the other test processes sharing
        # the machine's cores stretch the wall clock without anything of ours blocking the loop
        def busy_since(wall: float, cpu: float) -> float:
            return min(time.monotonic() - wall, time.process_time() - cpu)

        async def heartbeat() -> None:
            wall, cpu = time.monotonic(), time.process_time()
            while running:
                await asyncio.sleep(0.02)
                gaps.append(busy_since(wall, cpu))
                wall, cpu = time.monotonic(), time.process_time()

        beat = asyncio.create_task(heartbeat())
        started, started_cpu = time.monotonic(), time.process_time()
        modal = ExplainModal(scan, result)
        await app.push_screen(modal)
        status = modal.query_one("#explain-status", Static)
        while "cached" not in str(status.render()) and time.monotonic() - started < 60:
            await pilot.pause(0.05)
        shown = busy_since(started, started_cpu)
        await pilot.press("j", "j")  # scrolling it works too
        await pilot.pause(0.3)
        running = False
        await beat
        plain = modal.query_one("#explain-plain", TextArea)
        assert plain.display and len(plain.text) <= ANSWER_BOUND and not llm.chats
        assert "only the first 65,536 of this cached answer's 50,000,000 characters" in str(status.render())
    assert shown < 2, f"the cached answer took {shown:.1f} s to show"
    assert max(gaps) < 2, f"the event loop stalled {max(gaps):.2f} s"


@pytest.mark.parametrize("status, plain", [(403, False), (500, False), (502, True)])
def test_22_2_a_server_repeating_the_authorization_header_never_shows_the_key(cli, seeded, llm, status, plain):
    """A 403, a 500 (OpenAI's JSON error) and a proxy's 502 HTML page that repeat the request's
    `Authorization: Bearer <key>`: one line each, the key redacted, through `explain` and
    `ai test`."""
    llm.mode, llm.status, llm.plain_error = "echo-auth", status, plain
    for args in (("explain", SCAN_ID[:8], RULE), ("ai", "test")):
        done = cli(*args, env=env(llm))
        line = one_error_line(done, str(status))
        assert "Bearer ***" in line or plain, line
        assert llm.chats[-1].headers["authorization"] == f"Bearer {KEY}"  # it was sent, and repeated
    assert files_containing(seeded, KEY) == []


def test_22_2_an_answer_repeating_the_key_is_shown_and_cached_redacted(cli, seeded, llm):
    """The model's own text quotes the key (split across streamed pieces), an
    `Authorization: Bearer` header and another provider's key: shown and cached redacted."""
    llm.piece = 5  # the key arrives in pieces
    llm.answer = (f"## Debug\n\nYour request carried Authorization: Bearer {KEY} and the key {KEY}; "
                  "also api_key=AKIAABCDEFGHIJKLMNOP and ghp_0123456789abcdefghij.\n")
    done = cli.ok("explain", SCAN_ID[:8], RULE, env=env(llm))
    assert KEY not in done.stdout + done.stderr and "Bearer ***" in done.stdout
    assert "AKIAABCDEFGHIJKLMNOP" not in done.stdout and "ghp_0123456789abcdefghij" not in done.stdout
    assert files_containing(seeded, KEY) == [] and cached_rows(seeded) == 1
    again = cli.ok("explain", SCAN_ID[:8], RULE, env=env(llm))
    assert again.stdout == done.stdout and "(cached " in again.stderr
