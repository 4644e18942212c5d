"""Schedules: a later issue."""

from __future__ import annotations

from tui.screens.not_yet import NotYetScreen


class SchedulesScreen(NotYetScreen):
    MODE = "schedules"
    TITLE_TEXT = "Schedules: not yet available"
    TEXT = ("Recurring scans come in a later release. Until then, schedule the headless CLI "
            "with cron, e.g.  compliance-tui scan HOST --profile cis-level1-server")
