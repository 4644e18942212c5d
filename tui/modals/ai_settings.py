"""AI assistant settings: base URL, model, timeout and API key; Test before or after saving.

The three settings go to the config file's [ai] table; the key goes only to the OS keyring
(never the file, the store or a log), typed into a password field. Test makes one small
request with what the form holds and shows the reply, the server's models and the round trip.
"""

from __future__ import annotations

import asyncio
import os

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from core.ai import secrets
from core.domain.errors import OperatorError
from core.domain.settings import AiSettings, ai_overrides, ai_settings, load_settings
from core.domain.text import neutralise
from tui.base.modal import BaseModal
from tui.common import keymap

FIELDS = (
    ("base_url", "Base URL", "none: api.openai.com; Ollama: http://127.0.0.1:11434/v1"),
    ("model", "Model", "e.g. llama3.1:8b or gpt-4o-mini; empty: AI off"),
    ("timeout", "Timeout (s)", "60"),
    ("key", "API key", ""),
)


class AiSettingsModal(BaseModal):
    """Dismisses with True once saved."""

    BINDINGS = keymap.bindings("ai_settings")

    class KeyFound(Message):
        def __init__(self, key: secrets.ApiKey, backend: str | None):
            super().__init__()
            self.key, self.backend = key, backend

    class Said(Message):
        def __init__(self, lines: list[str], error: bool = False):
            super().__init__()
            self.lines, self.error = lines, error

    def __init__(self, test_now: bool = False):
        super().__init__()
        self.test_now = test_now
        self.backend: str | None = None

    def compose(self) -> ComposeResult:
        try:
            ai = load_settings(environment=False).ai  # the file's values: what Save writes
        except OperatorError:  # edited since the app started; Save writes a good [ai] table
            ai = AiSettings()
        values = {"base_url": ai.base_url or "", "model": ai.model or "", "timeout": f"{ai.timeout:g}", "key": ""}
        with Vertical(classes="dialog ai-form") as box:
            box.border_title = "AI assistant"
            with Grid(classes="form"):
                for field, label, hint in FIELDS:
                    yield Label(label)
                    yield Input(values[field], placeholder=hint, id=f"ai-{field}", compact=True,
                                password=field == "key")
            notes = [f"${name} is set and wins over the {field.replace('_', ' ')} saved here"
                     for field, name in ai_overrides().items()]
            yield Static("\n".join(notes), id="ai-notes", classes="note")
            yield Static(id="ai-result")
            with Horizontal(classes="buttons"):
                yield Button("Test (ctrl+t)", id="test", compact=True)
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ai-key", Input).disabled = True  # until the keyring is known
        self.find_key()

    @work(group="ai-key", exit_on_error=False)
    async def find_key(self) -> None:
        key = await secrets.find_key_async()
        backend = await asyncio.to_thread(secrets.keyring_name)
        self.post_message(self.KeyFound(key, backend))

    def on_ai_settings_modal_key_found(self, message: KeyFound) -> None:
        self.backend = message.backend
        field = self.query_one("#ai-key", Input)
        key = message.key
        if message.backend is None:
            field.placeholder = f"no OS keyring here: set ${secrets.ENV_KEY}" + (
                f" (set: {key.masked()})" if key.value else "")
        else:
            field.disabled = False
            field.placeholder = (f"{key.masked()} from {key.source}; type to replace"
                                 if key.value else f"stored in the OS keyring ({message.backend})")
        if message.key.note:
            self._say([message.key.note], error=True)
        if self.test_now:
            self.action_test()

    # ---------------------------------------------------------------- form

    def _settings(self) -> AiSettings:
        values = {f: self.query_one(f"#ai-{f}", Input).value.strip() for f in ("base_url", "model", "timeout")}
        values["timeout"] = values["timeout"] or "60"
        return ai_settings(values, "Settings")

    def _typed_key(self) -> str | None:
        field = self.query_one("#ai-key", Input)
        return secrets.check_key(field.value) if field.value.strip() and not field.disabled else None

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        {"test": self.action_test, "save": self.action_save}.get(event.button.id or "", self.action_close)()

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_test(self) -> None:
        try:
            ai, typed = self._settings(), self._typed_key()
        except OperatorError as exc:
            self._say([str(exc)], error=True)
            return
        env = ai_overrides()  # what the app will really use: the environment wins, as in load_settings
        if env:
            ai = ai_settings({field: os.environ[name] for field, name in env.items()}, "the environment", ai)
        self._say(["testing…"])
        self.run_test(ai, secrets.ApiKey(typed, "Settings (not saved)") if typed else None)

    @work(group="ai-test", exclusive=True, exit_on_error=False)
    async def run_test(self, ai: AiSettings, key: secrets.ApiKey | None) -> None:
        from core.ai.explain import check  # loads openai: only when asked

        try:
            report = await check(self.workspace.store, ai, key)
        except OperatorError as exc:
            self.post_message(self.Said([str(exc)], error=True))
            return
        self.post_message(self.Said(report.lines()))

    def action_save(self) -> None:
        try:
            ai, typed = self._settings(), self._typed_key()
        except OperatorError as exc:
            self._say([str(exc)], error=True)
            return
        self.store(ai, typed)

    @work(group="ai-save", exclusive=True, exit_on_error=False)
    async def store(self, ai: AiSettings, typed: str | None) -> None:
        try:
            from core.ai import configure  # logs the change (core/audit)

            await configure.save_settings(self.workspace, ai, typed)
        except (OperatorError, OSError) as exc:
            self.post_message(self.Said([f"not saved: {exc}"], error=True))
            return
        self.dismiss(True)

    def on_ai_settings_modal_said(self, message: Said) -> None:
        self._say(message.lines, message.error)

    def _say(self, lines: list[str], error: bool = False) -> None:
        text = Text(neutralise("\n".join(lines)))
        if error:
            text.stylize(self.palette.style("text-error"))
        self.query_one("#ai-result", Static).update(text)
