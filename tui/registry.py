"""The screen of each mode (the modes, their keys and labels are NAV in tui/common/nav.py)."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from tui.screens.compliance import ComplianceScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.exceptions import ExceptionsScreen
from tui.screens.hosts import HostsScreen
from tui.screens.jobs import JobsScreen
from tui.screens.schedules import SchedulesScreen
from tui.screens.settings import SettingsScreen


def screen_classes() -> dict[str, str | Callable[[], Screen]]:
    """mode -> Screen class (App.MODES' type)."""
    return {"dashboard": DashboardScreen, "hosts": HostsScreen, "compliance": ComplianceScreen,
            "jobs": JobsScreen, "schedules": SchedulesScreen, "settings": SettingsScreen,
            "exceptions": ExceptionsScreen}  # ctrl+e (keymap app.exceptions), not a numbered screen
