"""Add or edit a schedule: target, profile, cadence, time zone, drift alerts; checked by core
before it is saved, errors in the form. The profile is picked from what the content offers the
store's hosts (by their detected OS), framework by framework, CIS Level 1 Server first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Input, Label, Select

from core.content.frameworks import framework_of, profile_name
from core.content.offer import SharedProfile, shared_profiles
from core.domain.policy import Schedule
from core.schedules import cadence as cadences
from core.schedules.service import Target, notify_names
from tui.base.form import FormModal
from tui.widgets.cells import plain

TARGETS = [("Hosts", "hosts"), ("All hosts", "all"), ("Tag", "tag")]
CADENCES = [("Daily", "daily"), ("Weekly", "weekly"), ("Cron", "cron")]
ALERTS = [("When something changed", "changes"), ("After every run", "every")]
WHEN_HINTS = {"daily": "HH:MM, e.g. 02:00", "weekly": "DAY@HH:MM, e.g. mon@02:00",
              "cron": "minute hour day month weekday, e.g. 0 2 * * 1-5"}


@dataclass(frozen=True)
class ScheduleForm:
    """What the operator asked for, checked."""

    target: Target
    profile: str
    cadence: cadences.Cadence
    tz: str
    tailoring: Path | None
    priority: int | str
    notify: tuple[str, ...] = ()  # drift alerts' target names
    heartbeat: bool = False


Save = Callable[[ScheduleForm], Awaitable[Schedule]]


def profile_choices(shared: list[SharedProfile], current: str | None) -> list[tuple[Text, str]]:
    """The Select's options: "CIS: CIS Level 1 Server (cis-level1-server)", ... in picker order;
    the schedule's own profile stays offered even when no host's content has it now."""
    options = [(plain(f"{p.framework.label}: {p.title} ({profile_name(p.name)})"), p.name) for p in shared]
    if current and current not in {p.name for p in shared}:
        options.append((plain(f"{framework_of(current).label}: {profile_name(current)}"), current))
    return options


class ScheduleFormModal(FormModal[ScheduleForm, Schedule]):
    """Dismisses with the saved Schedule, or None when cancelled."""

    def __init__(self, schedule: Schedule | None, save: Save):
        super().__init__(save)
        self.schedule = schedule

    def compose(self) -> ComposeResult:
        s = self.schedule
        kind, spec = (s.cadence.split(" ", 1) if s else ("weekly", "mon@02:00"))
        with Vertical(classes="dialog host-form schedule-form") as box:
            box.border_title = f"Edit schedule {s.short_id}" if s else "Add schedule"
            with Grid(classes="form"):
                yield Label("Target")
                yield Select(TARGETS, value=s.target_kind if s else "hosts", allow_blank=False, compact=True,
                             id="f-target-kind")
                yield Label("Hosts or tag")
                yield Input(", ".join(s.targets) if s else "", placeholder="web01, db01  (or the tag)",
                            id="f-targets", compact=True)
                yield Label("Profile")
                yield Select(profile_choices(shared_profiles([], []), s.profile if s else None),
                             value=s.profile if s else "cis-level1-server", allow_blank=False, compact=True,
                             id="f-profile")
                yield Label("Cadence")
                yield Select(CADENCES, value=kind, allow_blank=False, compact=True, id="f-cadence")
                yield Label("When")
                yield Input(spec, placeholder=WHEN_HINTS[kind], id="f-when", compact=True)
                yield Label("Time zone")
                yield Input(s.tz if s else cadences.local_zone_name(), placeholder="e.g. Europe/Berlin",
                            id="f-tz", compact=True)
                yield Label("Tailoring")
                yield Input("", placeholder="keep as it is" if s and s.tailoring else "XCCDF tailoring file (optional)",
                            id="f-tailoring", compact=True)
                yield Label("Priority")
                yield Input(str(s.priority if s else 5), placeholder="1 (last) to 10 (first)", id="f-priority",
                            compact=True)
                yield Label("Alerts to")
                yield Input(", ".join(s.notify) if s else "", placeholder="target names (notify add NAME)",
                            id="f-notify", compact=True)
                yield Label("Alert")
                yield Select(ALERTS, value="every" if s and s.heartbeat else "changes", allow_blank=False,
                             compact=True, id="f-heartbeat")
            yield from self.form_end()

    def on_mount(self) -> None:
        self.load_profiles()

    @work(group="profiles", exit_on_error=False)
    async def load_profiles(self) -> None:
        """The profiles the content offers the detected hosts, as the form's choices (an async
        worker runs on the event loop: it sets them itself)."""
        hosts = await self.workspace.store.find_hosts()
        oses = [h.os_info for h in hosts if h.os_info]
        shared = shared_profiles(oses, await self.state.datastreams())
        select = self.query_one("#f-profile", Select)
        chosen = select.value
        select.set_options(profile_choices(shared, str(chosen)))
        select.value = chosen

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-cadence":
            self.query_one("#f-when", Input).placeholder = WHEN_HINTS[str(event.value)]

    def read(self) -> ScheduleForm:
        kind = str(self.query_one("#f-target-kind", Select).value)
        targets = self.field("targets")
        target = Target.of(targets if kind == "hosts" else None, kind == "all", targets if kind == "tag" else None)
        when = self.field("when")
        cadence = {"daily": cadences.daily, "weekly": cadences.weekly, "cron": cadences.cron}[
            str(self.query_one("#f-cadence", Select).value)](when)
        tz = self.field("tz") or cadences.local_zone_name()
        cadences.zone(tz)
        tailoring = self.field("tailoring")
        profile = str(self.query_one("#f-profile", Select).value)
        return ScheduleForm(target, profile, cadence, tz,
                            Path(tailoring).expanduser() if tailoring else None, self.field("priority") or 5,
                            notify_names(self.field("notify")),
                            self.query_one("#f-heartbeat", Select).value == "every")
