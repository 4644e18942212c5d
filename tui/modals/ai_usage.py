"""AI usage: requests and tokens per UTC day and model, the last 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from core.domain.explanations import AiUsage
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.widgets.keyed_table import Column, KeyedTable

DAYS = 30


class AiUsageModal(BaseModal):
    BINDINGS = keymap.bindings("ai_usage")

    class Loaded(Message):
        def __init__(self, rows: list[AiUsage]):
            super().__init__()
            self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog ai-usage") as box:
            box.border_title = f"AI usage, last {DAYS} days (UTC)"
            yield KeyedTable([
                Column("day", "Day", 10),
                Column("model", "Model", None, min_width=10),
                Column("requests", "Requests", 8, "right"),
                Column("input", "Input tok", 11, "right"),
                Column("output", "Output tok", 11, "right"),
            ], empty="no requests yet", id="usage")
            yield Static("≈ counted from the stream (the server sent no usage) · esc closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#usage").focus()
        self.load()

    @work(group="usage", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        since = (datetime.now(timezone.utc) - timedelta(days=DAYS - 1)).strftime("%Y-%m-%d")
        self.post_message(self.Loaded(await self.workspace.store.ai_usage(since=since)))

    def on_ai_usage_modal_loaded(self, message: Loaded) -> None:
        def tokens(value: int, row: AiUsage) -> str:
            return ("≈" if row.estimated else "") + f"{value:,}"

        self.query_one("#usage", KeyedTable).set_rows(
            (f"{u.day}/{u.model}", (u.day, Text(u.model), str(u.requests),
                                    tokens(u.input_tokens, u), tokens(u.output_tokens, u)))
            for u in message.rows)
