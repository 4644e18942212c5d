"""A rule expanded: Description, Rationale and Remediation as Markdown, the benchmark's shell
fix as plain text that keeps its line breaks and scrolls sideways (operators copy it), and
Explain with AI once an LLM is configured."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Markdown, Static

from core.domain.models import RuleInfo, RuleResult, Scan
from core.domain.policy import RuleException
from core.domain.text import neutralise
from core.results.report import texts_from_file
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.services import assistant
from tui.widgets.cells import plain
from tui.widgets.rule_header import RuleHeader


def rule_markdown(result: RuleResult, info: RuleInfo | None, from_file: bool = False) -> str:
    """Rule texts come from content or an imported file: control characters made visible."""
    if info is None:
        return ("The rule texts of this scan's content are not stored, so only the verdict is "
                "known. Rescanning with the content installed here stores them.")
    parts = ["> **Rule texts from the imported results file**, not from content installed here: "
             "whoever made the file wrote them; check a fix against the benchmark."] if from_file else []
    parts += ["## Description", info.description or "_none given_",
             "## Rationale", info.rationale or "_none given_", "## Remediation"]
    if info.fixtext:
        parts.append(info.fixtext)
    if info.fix_script:
        parts.append("Shell fix from the benchmark (below; the arrow keys scroll it sideways):")
    if not (info.fixtext or info.fix_script):
        parts.append("_The benchmark gives no remediation for this rule._")
    return neutralise("\n\n".join(parts))


def exception_text(exc: RuleException, palette) -> Text:
    """The exception that accepts this failure, in one or two lines: its reason and expiry."""
    text = palette.text("Excepted", "text-warning", bold=True)
    text.append_text(plain(f" until {exc.expires} (then it counts again) · {exc.scope_text()} · "
                           f"accepted by {exc.accepted_by}\nReason: {exc.reason}"))
    return text


class RuleDetailModal(BaseModal):
    BINDINGS = keymap.bindings("rule_detail")

    class Loaded(Message):
        def __init__(self, info: RuleInfo | None):
            super().__init__()
            self.info = info

    def __init__(self, scan: Scan, result: RuleResult):
        super().__init__()
        self.scan, self.result = scan, result
        self.explained = False  # Explain with AI cached a new explanation

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog rule") as box:
            box.border_title = "Rule"
            yield RuleHeader(self.result)
            if self.result.exception:  # an accepted failure: why, by whom, until when
                yield Static(exception_text(self.result.exception, self.palette), id="rule-exception")
            with VerticalScroll(id="rule-scroll"):
                # links in rule texts are shown, never opened: the texts may come from a hostile file
                yield Markdown("reading the rule…", id="rule-text", open_links=False)
                with ScrollableContainer(id="rule-fix-box"):
                    yield Static(id="rule-fix")
            if assistant.is_configured(self.app):
                with Horizontal(classes="buttons"):
                    yield Button("Explain with AI (E)", id="explain", compact=True)
                yield Static("esc closes · j/k scroll · ←/→ the fix · E explain with AI", classes="hint")
            else:
                yield Static("esc closes · j/k scroll · ←/→ scroll the fix sideways", classes="hint")

    def on_mount(self) -> None:
        self.load()
        self.query_one("#rule-scroll").focus()

    @work(group="rule", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        info = None
        if self.scan.content_id:
            info = await self.workspace.store.rule_info(self.scan.content_id, self.result.rule_id)
        self.post_message(self.Loaded(info))

    async def on_rule_detail_modal_loaded(self, message: Loaded) -> None:
        await self.query_one("#rule-text", Markdown).update(
            rule_markdown(self.result, message.info, texts_from_file(self.scan)))
        script = message.info.fix_script if message.info else ""
        self.query_one("#rule-fix", Static).update(plain(script, no_wrap=True))
        self.query_one("#rule-fix-box").display = bool(script)

    def action_scroll_code(self, columns: int) -> None:
        self.query_one("#rule-fix-box").scroll_relative(x=columns, animate=False)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "explain":
            return assistant.is_configured(self.app)
        return True

    @on(Button.Pressed, "#explain")
    def action_explain(self) -> None:
        from tui.modals.explain import ExplainModal

        def closed(saved: bool | None) -> None:
            self.explained = self.explained or bool(saved)

        self.app.push_screen(ExplainModal(self.scan, self.result), closed)

    def action_close(self) -> None:
        self.dismiss(self.explained)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#rule-scroll").scroll_relative(y=lines, animate=False)
