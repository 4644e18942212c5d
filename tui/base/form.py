"""The base of the add and edit forms (hosts, schedules): ctrl+s or enter reads the form and
saves it in a worker; what the form or core refuses shows on the form's error line, in the
TUI's words. Dismisses with what save returned, or None when cancelled."""

from __future__ import annotations

from typing import Awaitable, Callable, Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Input, Static

from core.domain.errors import OperatorError
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.common.words import said

Form = TypeVar("Form")  # what the fields say, checked (a Host, a ScheduleForm)
Saved = TypeVar("Saved")  # what save returns, and the modal dismisses with


class FormModal(BaseModal, Generic[Form, Saved]):
    """Subclasses compose their fields (Inputs with id `f-NAME`), then form_end(), and read()."""

    BINDINGS = keymap.bindings("form")

    class Failed(Message):
        def __init__(self, error: str):
            super().__init__()
            self.error = error

    def __init__(self, save: Callable[[Form], Awaitable[Saved]]):
        super().__init__()
        self.save = save

    def read(self) -> Form:
        """The form's values, checked; OperatorError says what to change."""
        raise NotImplementedError

    def form_end(self) -> ComposeResult:
        """The error line and the buttons, under the fields."""
        yield Static(id="form-error", classes="error-line")
        with Horizontal(classes="buttons"):
            yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)
            yield Button("Cancel (esc)", id="cancel", compact=True)

    def field(self, name: str) -> str:
        return self.query_one(f"#f-{name}", Input).value.strip()

    def on_input_submitted(self) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        try:
            form = self.read()
        except OperatorError as exc:
            self.show_error(said(exc))
            return
        self.show_error("")
        self.store(form)

    @work(group="save", exclusive=True, exit_on_error=False)
    async def store(self, form: Form) -> None:
        try:
            saved = await self.save(form)
        except OperatorError as exc:
            self.post_message(self.Failed(said(exc)))  # shown by the handler: only handlers touch widgets
            return
        self.dismiss(saved)

    def on_form_modal_failed(self, message: Failed) -> None:
        self.show_error(message.error)

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(self.palette.text(text, "text-error"))
