"""Yes or no, before anything that deletes data or changes a host."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from tui.base.modal import BaseModal
from tui.common import keymap
from tui.widgets.cells import plain, safe


class ConfirmModal(BaseModal):
    """Dismisses True on confirm (y or enter on the button), False on cancel (n or esc)."""

    BINDINGS = keymap.bindings("confirm")

    def __init__(self, question: str | Text, *, confirm: str = "Yes", title: str = "Confirm",
                 danger: bool = False, refuse: str = "Cancel"):
        super().__init__()
        self.question, self.confirm, self.title_text, self.danger = question, confirm, title, danger
        self.refuse = refuse  # the no button's words: never "Cancel" when yes cancels something

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm") as box:
            box.border_title = plain(self.title_text)  # questions quote host names and errors: plain text
            yield Static(safe(self.question), classes="question")
            with Horizontal(classes="buttons"):
                yield Button(plain(f"{self.confirm} (y)"), id="yes",
                             variant="error" if self.danger else "primary", compact=True)
                yield Button(plain(f"{self.refuse} (n)"), id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no" if self.danger else "#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TypedConfirmModal(BaseModal):
    """For a change too big for a y: the operator types word (a host's name, a count of hosts).
    Dismisses True only when the typed text is word; esc cancels."""

    BINDINGS = keymap.bindings("typed_confirm")

    def __init__(self, question: str | Text, word: str, prompt: str, *, title: str = "Confirm"):
        super().__init__()
        self.question, self.word, self.prompt, self.title_text = question, word, prompt, title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm") as box:
            box.border_title = plain(self.title_text)
            yield Static(safe(self.question), classes="question")
            yield Label(plain(self.prompt))
            yield Input(id="typed", compact=True)
            yield Static("", id="typed-error", classes="error-line")

    def on_mount(self) -> None:
        self.query_one("#typed", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.word:
            self.dismiss(True)
        else:
            self.query_one("#typed-error", Static).update(plain(f"that is not {self.word}: nothing applied yet"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(False)
