"""AI settings in the TUI: the form, Test against the loopback server, Save to the config file
and the key to the keyring only, the key masked on screen, usage per day and model."""

from __future__ import annotations

import tomllib

import keyring
import pytest
from keyring.backends import fail
from textual.widgets import Input, Static

from core.ai.secrets import SERVICE, USERNAME
from core.domain.settings import config_path
from tests.ai.helpers import AI_ENV, KEY, SCAN_ID, MemoryKeyring, files_containing, seed_scan
from tests.ai.llm_server import LlmServer
from tests.tui.helpers import make_app, settle, wait_for
from tui.modals.ai_settings import AiSettingsModal
from tui.modals.ai_usage import AiUsageModal
from tui.screens.results import ResultsScreen
from tui.widgets.keyed_table import KeyedTable


@pytest.fixture
def llm(monkeypatch, tmp_path):
    for name in AI_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    keyring.set_keyring(fail.Keyring())
    server = LlmServer().start()
    yield server
    server.stop()
    keyring.set_keyring(fail.Keyring())


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def fill(pilot, modal, **values) -> None:
    for field, value in values.items():
        box = modal.query_one(f"#ai-{field}", Input)
        box.value = ""
        box.focus()
        await pilot.press(*value) if value else None
    await pilot.pause()


async def open_form(pilot) -> AiSettingsModal:
    await pilot.press("6")
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AiSettingsModal)
    return pilot.app.screen


async def test_set_up_test_and_save_an_llm(data_dir, llm):
    await seed_scan(data_dir)
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        settings = app.screen
        assert "AI assistant   off: no model named" in text_of(settings, "#ai-facts")
        assert settings.check_action("ai_test", ()) is False
        modal = await open_form(pilot)
        key = modal.query_one("#ai-key", Input)
        assert key.disabled and key.placeholder.startswith("no OS keyring here: set $OPENAI_API_KEY")
        await fill(pilot, modal, base_url=llm.url, model="test-model", timeout="5")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "round trip" in text_of(modal, "#ai-result"), what="the test")
        shown = text_of(modal, "#ai-result")
        assert f"endpoint    {llm.url}" in shown and "reply       OK" in shown
        assert "models      other-model, test-model" in shown and "API key     none (not set)" in shown
        assert not config_path().exists()  # a test saves nothing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is settings
        assert tomllib.loads(config_path().read_text())["ai"] == {
            "base_url": llm.url, "model": "test-model", "timeout": 5}
        assert f"AI assistant   test-model at {llm.url} · timeout 5 s" in text_of(settings, "#ai-facts")
        assert "AI usage       today 1 request" in text_of(settings, "#ai-facts")
        assert settings.check_action("ai_test", ()) is True
        # the Results screen now has the AI column
        scan = await app.workspace.store.get_scan(SCAN_ID)
        await app.push_screen(ResultsScreen(scan))
        await settle(pilot)
        table = app.screen.query_one("#rules", KeyedTable)
        assert str(table.cells(table.cursor_key)[5]) == "ask"


async def test_the_key_goes_to_the_keyring_and_is_masked(data_dir, llm):
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    llm.api_key = KEY
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_form(pilot)
        await wait_for(pilot, lambda: not modal.query_one("#ai-key", Input).disabled, what="the keyring")
        await fill(pilot, modal, base_url=llm.url, model="test-model", key=KEY)
        screenshot = app.export_screenshot()
        assert KEY not in screenshot and "•" * 8 in screenshot  # masked while typed
        await pilot.press("ctrl+t")  # the typed key, before it is saved
        await wait_for(pilot, lambda: "round trip" in text_of(modal, "#ai-result"), what="the test")
        assert f"API key     ••••{KEY[-4:]} (from Settings (not saved))" in text_of(modal, "#ai-result")
        assert llm.chats[-1].headers["authorization"] == f"Bearer {KEY}"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert backend.items == {(SERVICE, USERNAME): KEY}
        facts = text_of(app.screen, "#ai-facts")
        assert f"API key ••••{KEY[-4:]} from keyring" in facts and KEY not in app.export_screenshot()
        await pilot.press("T")  # Test AI from the screen: the stored key
        await settle(pilot)
        modal = app.screen
        await wait_for(pilot, lambda: "round trip" in text_of(modal, "#ai-result"), what="the test")
        assert "from keyring" in text_of(modal, "#ai-result")
        await pilot.press("escape")
        await pilot.pause()
    assert KEY not in config_path().read_text()
    assert files_containing(data_dir, KEY) == [] and files_containing(config_path().parent, KEY) == []


async def test_bad_values_and_failed_tests_are_one_line(data_dir, llm):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_form(pilot)
        await fill(pilot, modal, base_url="ftp://x", model="m")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is modal and "must start with http:// or https://" in text_of(modal, "#ai-result")
        assert not config_path().exists()
        await fill(pilot, modal, base_url=llm.url, model="nope")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "404" in text_of(modal, "#ai-result"), what="the test")
        assert text_of(modal, "#ai-result").startswith("model 'nope' not found at")
        await pilot.press("escape")
        await pilot.pause()
        assert not config_path().exists()


async def test_usage_per_day_and_model(data_dir, llm):
    from core.ai.explain import today

    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        store = app.workspace.store
        await store.record_ai_usage(today(), "test-model", 1200, 340)
        await store.record_ai_usage(today(), "other-model", 10, 5, estimated=True)
        await store.record_ai_usage("2025-01-01", "test-model", 1, 1)  # long ago: not shown
        await pilot.press("6")
        await settle(pilot)
        assert "today 2 requests, 1,555 tokens · 30 days 2 requests" in text_of(app.screen, "#ai-facts")
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, AiUsageModal)
        table = app.screen.query_one("#usage", KeyedTable)
        rows = [tuple(str(c) for c in table.cells(k)) for k in table.keys]
        assert rows == [(today(), "other-model", "1", "≈10", "≈5"), (today(), "test-model", "1", "1,200", "340")]
