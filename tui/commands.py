"""The command palette (ctrl+p): the current screen's own actions first, then every screen,
then actions that open their screen. It follows the screen the palette was opened on."""

from __future__ import annotations

from functools import partial
from typing import Callable, Iterator, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.base.view import AppState
from tui.common.keymap import key_label
from tui.common.nav import GLOBAL_ACTIONS, NAV

Command = tuple[str, str, Callable[[], object]]


class ScreenCommands(Provider):
    def _commands(self) -> Iterator[Command]:
        app, screen = cast("AppState", self.app), self.screen
        seen: set[str] = set()
        for binding in getattr(screen, "BINDINGS", ()):
            action = getattr(binding, "action", None)
            description = getattr(binding, "tooltip", "") or getattr(binding, "description", "")
            if not action or not description or action in ("back", "close") or action in seen:
                continue
            seen.add(action)
            keys = app.user_keys.get(getattr(binding, "id", None) or "") or binding.key
            yield (description, f"this screen (key {key_label(keys)})", partial(screen.run_action, action))
        for key, mode, label in NAV:
            yield (f"Go to {label}", f"Show the {label} screen (key {key})", partial(app.action_go, mode))
        for title, help_text, mode, action in GLOBAL_ACTIONS:
            yield (title, help_text, partial(app.run_on, mode, action))

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
