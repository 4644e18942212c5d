"""Explain with AI: the rule's tags and title, then the explanation as Markdown, streamed.

Redraws are throttled (at most every REDRAW seconds) so a slow SSH link is not flooded with
one repaint per token; esc cancels the request (nothing is cached) and closes. The model's
text is untrusted: neutralised, then shown by the Markdown widget, which reads no console
markup, with links that do not open. Markdown builds a widget per block (16,000 list items
take minutes): a text longer than MARKDOWN_CHARS or MARKDOWN_LINES is shown as plain text in
a read-only TextArea instead, which draws only the lines in view.
"""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Markdown, Static, TextArea
from textual.worker import WorkerState

from core.domain.errors import OperatorError
from core.domain.models import RuleResult, Scan
from core.domain.text import neutralise
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.widgets.cells import short_time
from tui.widgets.rule_header import RuleHeader

REDRAW = 0.25  # seconds between redraws while the answer streams in
MARKDOWN_CHARS = 16 * 1024  # a real explanation is 2-8 KiB and 30-60 lines
MARKDOWN_LINES = 150


def fits_markdown(text: str) -> bool:
    return len(text) <= MARKDOWN_CHARS and text.count("\n") <= MARKDOWN_LINES


def sentence(text: str) -> str:
    """An error as a sentence of its own: what follows it must not read as its cut-off end."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


class ExplainModal(BaseModal):
    """Dismisses with True when a new explanation was cached (the AI column shows ✓)."""

    BINDINGS = keymap.bindings("explain")

    class Piece(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    class Done(Message):
        def __init__(self, outcome):
            super().__init__()
            self.outcome = outcome

    class Waiting(Message):
        def __init__(self, seconds: float):
            super().__init__()
            self.seconds = seconds

    class Failed(Message):
        def __init__(self, error: str):
            super().__init__()
            self.error = error

    def __init__(self, scan: Scan, result: RuleResult, regenerate: bool = False):
        super().__init__()
        self.scan, self.result = scan, result
        self._regenerate = regenerate
        self._pending: list[str] = []
        self._shown = ""  # what the answer area holds, neutralised
        self._received = 0
        self._timer: Timer | None = None
        self._started = 0.0
        self.saved = False  # a new explanation was cached
        self.redraws = 0  # Markdown updates while streaming (the tests check the throttle)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog explain") as box:
            box.border_title = "Explain with AI"
            yield RuleHeader(self.result)
            yield Static(id="explain-status")
            with VerticalScroll(id="explain-scroll"):
                yield Markdown("", id="explain-text", open_links=False)
            yield TextArea("", id="explain-plain", read_only=True, soft_wrap=True, show_cursor=False)
            yield Static("esc cancels or closes · r regenerate · j/k scroll", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#explain-scroll").focus()
        self.start(self._regenerate)

    # ---------------------------------------------------------------- asking

    @property
    def asking(self) -> bool:
        return any(w.node is self and w.group == "explain"
                   and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in self.workers)

    def start(self, regenerate: bool) -> None:
        self._pending.clear()
        self._received, self._started = 0, time.monotonic()
        model = self.workspace.settings.ai.model
        self._status(f"asking {model}…" if regenerate else f"looking for a cached explanation by {model}…")
        self._shown = ""
        self._plain(False)
        self.query_one("#explain-text", Markdown).update("")
        self.ask(regenerate)

    @work(group="explain", exclusive=True, exit_on_error=False)
    async def ask(self, regenerate: bool) -> None:
        from core.ai.explain import explain  # loads openai: only when first asked

        workspace = self.workspace

        async def wait(seconds: float) -> None:  # a 429: say so while honouring Retry-After
            self.post_message(self.Waiting(seconds))
            await asyncio.sleep(seconds)

        def piece(text: str) -> None:  # streamed: each part of the answer as it comes
            self.post_message(self.Piece(text))

        try:
            outcome = await explain(workspace.store, workspace.settings.ai, self.scan, self.result, piece,
                                    regenerate=regenerate, sleep=wait)
        except OperatorError as exc:  # one line in the modal; the app goes on
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Done(outcome))

    def on_explain_modal_waiting(self, message: Waiting) -> None:
        self._status(f"rate limited (429): asking again in {message.seconds:.0f} s, as the server asks "
                     "· esc cancels")

    def on_explain_modal_piece(self, message: Piece) -> None:
        self._pending.append(neutralise(message.text))
        self._received += len(message.text)
        if self._timer is None:
            self._timer = self.set_timer(REDRAW, self._flush)

    async def _flush(self) -> None:
        self._timer = None
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        scroll = self._scroller()
        following = scroll.scroll_y >= scroll.max_scroll_y - 1
        self._status(f"receiving from {self.workspace.settings.ai.model}… "
                     f"{time.monotonic() - self._started:.0f} s · esc cancels")
        self.redraws += 1
        self._shown += text
        if self.plain or not fits_markdown(self._shown):
            self._show_plain(self._shown)
        else:
            await self.query_one("#explain-text", Markdown).append(text)
        if following:  # keep the newest text in view unless the reader scrolled up
            self._scroller().scroll_end(animate=False)

    async def on_explain_modal_done(self, message: Done) -> None:
        self._stop_timer()
        self._pending.clear()  # the whole text replaces what streamed in
        outcome = message.outcome
        found = outcome.explanation
        await self._show(neutralise(found.text))
        if outcome.cached:
            from core.ai.explain import cut_note

            note = cut_note(found)
            self._status(f"cached {short_time(found.created_at)} UTC · {found.model} · r asks anew"
                         + (f" · {note}" if note else ""), error=bool(note))
        else:
            self.saved = True
            counted = " (counted)" if outcome.estimated else ""
            self._status(f"{found.model} · {outcome.seconds:.1f} s · {found.input_tokens} in / "
                         f"{found.output_tokens} out tokens{counted} · saved")

    async def on_explain_modal_failed(self, message: Failed) -> None:
        self._stop_timer()
        await self._flush()
        kept = " The partial answer above was not kept." if self._received else ""
        self._status(f"{sentence(message.error)}{kept} Press r to try again.", error=True)

    # ---------------------------------------------------------------- the answer area

    @property
    def plain(self) -> bool:
        return self.query_one("#explain-plain", TextArea).display

    def _plain(self, on: bool) -> None:
        plain, scroll = self.query_one("#explain-plain", TextArea), self.query_one("#explain-scroll")
        plain.display, scroll.display = on, not on
        (plain if on else scroll).focus()

    def _scroller(self):
        return self.query_one("#explain-plain" if self.plain else "#explain-scroll")

    def _show_plain(self, text: str) -> None:
        if not self.plain:
            self._plain(True)
        self.query_one("#explain-plain", TextArea).load_text(text)

    async def _show(self, text: str) -> None:
        """The whole answer: as Markdown when it is of an explanation's size, else plain."""
        self._shown = text
        if fits_markdown(text):
            self._plain(False)
            await self.query_one("#explain-text", Markdown).update(text)
        else:
            await self.query_one("#explain-text", Markdown).update("")
            self._show_plain(text)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#explain-status", Static)
        status.update(Text(neutralise(text)))
        status.set_class(error, "error-line")

    # ---------------------------------------------------------------- keys

    def action_regenerate(self) -> None:
        if not self.asking:
            self.start(True)

    def action_close(self) -> None:
        if self.asking:
            self.workers.cancel_group(self, "explain")
            self.notify("explanation cancelled; nothing was kept", timeout=4)
        self._stop_timer()
        self.dismiss(self.saved)

    def action_scroll(self, lines: int) -> None:
        self._scroller().scroll_relative(y=lines, animate=False)
