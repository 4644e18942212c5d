"""Jobs: a later issue."""

from __future__ import annotations

from tui.screens.not_yet import NotYetScreen


class JobsScreen(NotYetScreen):
    MODE = "jobs"
    TITLE_TEXT = "Jobs: not yet available"
    TEXT = ("A persistent job queue comes in a later release. Until then, scans started here "
            "run inside this app: their live progress shows on Hosts (2) and Compliance (3), "
            "and a failed scan's error shows on Compliance when you select it.")
