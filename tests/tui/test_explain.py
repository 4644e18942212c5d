"""Explain with AI in the TUI, against the loopback chat-completions server: the AI column and
`e` only with an LLM, streamed Markdown with throttled redraws, the cache, esc cancelling,
errors in the modal, Explain with AI from a rule's details, hostile text."""

from __future__ import annotations

import time

import keyring
import pytest
from keyring.backends import fail
from textual.widgets import Button, Markdown, Static

from tests.ai.helpers import AI_ENV, HOSTILE, KEY, ROOT_LOGIN, SCAN_ID, seed_scan
from tests.ai.llm_server import LlmServer
from tests.tui.helpers import SCAN_IDS, make_app, settle, wait_for
from tui.modals.explain import REDRAW, ExplainModal
from tui.modals.rule_detail import RuleDetailModal
from tui.screens.results import ResultsScreen
from tui.widgets.keyed_table import KeyedTable


@pytest.fixture
def llm(monkeypatch, tmp_path):
    for name in AI_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(tmp_path / "config.toml"))
    keyring.set_keyring(fail.Keyring())  # as on this machine: no OS keyring
    server = LlmServer().start()
    yield server
    server.stop()


@pytest.fixture
def configured(llm, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", llm.url)
    monkeypatch.setenv("COMPLIANCE_TUI_LLM_MODEL", "test-model")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return llm


async def open_results(pilot, scan_id: str = SCAN_IDS["web-3"], failed: bool = True) -> ResultsScreen:
    await settle(pilot)
    scan = await pilot.app.workspace.store.get_scan(scan_id)
    await pilot.app.push_screen(ResultsScreen(scan))
    await settle(pilot)
    if failed:
        await pilot.press("f", "f")  # failed rules
        await settle(pilot)
    return pilot.app.screen


def status(modal) -> str:
    return str(modal.query_one("#explain-status", Static).render())


async def finished(pilot, modal: ExplainModal) -> None:
    await wait_for(pilot, lambda: not modal.asking and "…" not in status(modal), what="the explanation")
    await pilot.pause()


async def test_no_llm_no_ai_column_key_or_button(fleet_data, llm):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        table = screen.query_one("#rules", KeyedTable)
        assert "ai" not in [c.key for c in table.columns]  # no AI column
        assert screen.check_action("explain", ()) is False
        assert not any(b.binding.action == "explain" and b.enabled for b in app.active_bindings.values())
        await pilot.press("E")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert not [e for e in app.screen.entries if "Explain" in e[2] or "AI" in e[2]]  # nor in help
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RuleDetailModal) and not app.screen.query(Button)
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, RuleDetailModal) and llm.requests == []


async def test_explain_streams_markdown_then_comes_from_the_cache(fleet_data, configured):
    llm = configured
    llm.piece, llm.delay = 6, 0.04  # about 80 chunks over 3 s: a slow model
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        table = screen.query_one("#rules", KeyedTable)
        rule = table.cursor_key
        assert str(table.cells(rule)[5]) == "ask"
        started = time.monotonic()
        await pilot.press("E")
        modal = app.screen
        assert isinstance(modal, ExplainModal)
        text = modal.query_one("#explain-text", Markdown)
        first: dict = {}

        def shown() -> bool:
            if text.source and not first:
                first.update(source=text.source, status=status(modal))
            return bool(first)

        await wait_for(pilot, shown, what="the first redraw")
        assert "receiving from test-model" in first["status"]
        assert len(first["source"]) < len(llm.answer)  # it streams in
        await finished(pilot, modal)
        elapsed = time.monotonic() - started
        assert modal.query_one("#explain-text", Markdown).source == llm.answer
        chunks = len(llm.answer) // llm.piece
        assert 2 <= modal.redraws <= elapsed / REDRAW + 2 < chunks  # throttled, not one per chunk
        assert status(modal).startswith("test-model · ") and "out tokens · saved" in status(modal)
        assert len(modal.query("MarkdownH2")) == 4  # rendered as Markdown
        (request,) = llm.chats
        info = await app.workspace.store.rule_info(screen.scan.content_id, rule)
        assert info.title in request.prompt and "Result on this host: fail" in request.prompt
        for private in ("web01", "10.0.0.11", "scanner", screen.scan.id[:8]):
            assert private not in request.prompt
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and str(table.cells(rule)[5]) == "✓"
        # again: from the cache at once, no request
        await pilot.press("E")
        modal = app.screen
        await finished(pilot, modal)
        assert "cached" in status(modal) and "r asks anew" in status(modal) and len(llm.chats) == 1
        assert modal.query_one("#explain-text", Markdown).source == llm.answer
        llm.answer, llm.delay = "## Again\n\nregenerated", 0
        await pilot.press("r")
        await finished(pilot, modal)
        assert modal.query_one("#explain-text", Markdown).source == "## Again\n\nregenerated"
        assert len(llm.chats) == 2


async def test_esc_cancels_and_keeps_nothing(fleet_data, configured):
    llm = configured
    llm.piece, llm.delay = 4, 0.1  # slow: esc lands mid-answer
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        rule = screen.query_one("#rules", KeyedTable).cursor_key
        await pilot.press("E")
        modal = app.screen
        await wait_for(pilot, lambda: modal.redraws >= 1, what="the stream")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert any("cancelled; nothing was kept" in n.message for n in app._notifications)
        assert await app.workspace.store.get_explanation(screen.scan.content_id, rule, "fail", "test-model") is None
        assert str(screen.query_one("#rules", KeyedTable).cells(rule)[5]) == "ask"
        llm.delay = 0  # the app keeps working
        await pilot.press("E")
        await finished(pilot, app.screen)
        assert app.screen.query_one("#explain-text", Markdown).source == llm.answer


async def test_errors_are_one_line_in_the_modal(fleet_data, configured):
    llm = configured
    llm.mode = "401"
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_results(pilot)
        await pilot.press("E")
        modal = app.screen
        await finished(pilot, modal)
        line = modal.query_one("#explain-status", Static)
        assert line.has_class("error-line")
        assert status(modal).startswith("the LLM server refused the API key (401 Unauthorized")
        assert status(modal).endswith("or the environment. Press r to try again.")  # never "...environment r tries"
        assert KEY not in status(modal)
        llm.mode = "close"
        await pilot.press("r")
        await finished(pilot, modal)
        assert "closed the connection before the answer was complete" in status(modal)
        assert "The partial answer above was not kept." in status(modal)
        llm.mode = "ok"
        await pilot.press("r")
        await finished(pilot, modal)
        assert not line.has_class("error-line")
        assert modal.query_one("#explain-text", Markdown).source == llm.answer


async def test_explain_with_ai_from_the_rule_details(fleet_data, configured):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot)
        rule = screen.query_one("#rules", KeyedTable).cursor_key
        await pilot.press("enter")
        await settle(pilot)
        details = app.screen
        assert isinstance(details, RuleDetailModal)
        assert str(details.query_one("#explain", Button).label) == "Explain with AI (E)"
        await pilot.click("#explain")
        modal = app.screen
        assert isinstance(modal, ExplainModal) and modal.result.rule_id == rule
        await finished(pilot, modal)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is details
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and str(screen.query_one("#rules", KeyedTable).cells(rule)[5]) == "✓"


async def test_hostile_titles_and_answers_are_text(data_dir, configured):
    llm = configured
    llm.answer = "## [bold red]Owned[/]\n\n\x1b]52;c;ZXZpbA==\x07 [link=file:///etc/passwd]x[/link]\n"
    await seed_scan(data_dir)
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_results(pilot, SCAN_ID, failed=False)
        table = screen.query_one("#rules", KeyedTable)
        assert "[bold red]Owned[/]" in str(table.cells(HOSTILE)[2])
        table.move_to(HOSTILE)
        await pilot.press("E")
        modal = app.screen
        await finished(pilot, modal)
        title = str(modal.query_one("#rule-title", Static).render())
        assert "[bold red]Owned[/]" in title and "\x1b" not in title and "\\x1b]52" in title
        source = modal.query_one("#explain-text", Markdown).source
        assert "\x1b" not in source and "\x07" not in source and "[bold red]Owned[/]" in source
        shown = " ".join(str(w.render()) for w in modal.query("MarkdownH2, MarkdownParagraph"))
        assert "[bold red]Owned[/]" in shown and "[link=file:///etc/passwd]x[/link]" in shown  # as text
        assert "\\x1b]52;c;ZXZpbA==\\x07" in shown
        await pilot.press("escape")
        await pilot.pause()
        table.move_to(ROOT_LOGIN)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_a_rate_limit_is_said_and_waited_for_once(fleet_data, configured):
    llm = configured
    llm.mode, llm.retry_after = "429", "1"
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_results(pilot)
        await pilot.press("E")
        modal = app.screen
        await wait_for(pilot, lambda: "rate limited (429): asking again in 1 s" in status(modal), what="the wait")
        await finished(pilot, modal)
        assert modal.query_one("#explain-text", Markdown).source == llm.answer and len(llm.chats) == 2
