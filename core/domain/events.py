"""The event hub: how core tells whoever listens (the TUI, the CLI's progress line) what its
jobs do, in this process. It knows nothing of Textual; a subscriber is a plain callback run
in the event loop's thread, so it must be quick (a TUI posts a message and returns).

Other processes' jobs are not seen here: a UI re-reads the store for those.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from core.domain.models import Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobEvent:
    kind: str  # "created", "started", "progress" or "finished"
    job: Job  # a snapshot: progress, current rule, status


Subscriber = Callable[[JobEvent], None]


class EventHub:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call callback with every event from now on; returns the way to stop."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def publish(self, event: JobEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a listener's bug must not stop a job
                log.exception("event subscriber failed on %s", event.kind)
