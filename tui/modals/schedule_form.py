"""Add or edit a schedule: target, profile, cadence, time zone; checked by core before it is
saved, errors in the form."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from core.domain.errors import OperatorError
from core.domain.policy import Schedule
from core.schedules import cadence as cadences
from core.schedules.service import Target
from tui.base.modal import BaseModal
from tui.common import keymap
from tui.common.words import said

TARGETS = [("Hosts", "hosts"), ("All hosts", "all"), ("Tag", "tag")]
CADENCES = [("Daily", "daily"), ("Weekly", "weekly"), ("Cron", "cron")]
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


Save = Callable[[ScheduleForm], Awaitable[Schedule]]


class ScheduleFormModal(BaseModal):
    """Dismisses with the saved Schedule, or None when cancelled."""

    BINDINGS = keymap.bindings("form")

    class Failed(Message):
        def __init__(self, error: str):
            super().__init__()
            self.error = error

    def __init__(self, schedule: Schedule | None, save: Save):
        super().__init__()
        self.schedule = schedule
        self.save = save

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
                yield Input(s.profile if s else "cis-level1-server", placeholder="cis-level1-server",
                            id="f-profile", compact=True)
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
            yield Static(id="form-error", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def _value(self, field: str) -> str:
        return self.query_one(f"#f-{field}", Input).value.strip()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "f-cadence":
            self.query_one("#f-when", Input).placeholder = WHEN_HINTS[str(event.value)]

    def form(self) -> ScheduleForm:
        kind = str(self.query_one("#f-target-kind", Select).value)
        targets = self._value("targets")
        target = Target.of(targets if kind == "hosts" else None, kind == "all", targets if kind == "tag" else None)
        when = self._value("when")
        cadence = {"daily": cadences.daily, "weekly": cadences.weekly, "cron": cadences.cron}[
            str(self.query_one("#f-cadence", Select).value)](when)
        tz = self._value("tz") or cadences.local_zone_name()
        cadences.zone(tz)
        tailoring = self._value("tailoring")
        return ScheduleForm(target, self._value("profile"), cadence, tz,
                            Path(tailoring).expanduser() if tailoring else None, self._value("priority") or 5)

    def on_input_submitted(self) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        try:
            form = self.form()
        except OperatorError as exc:
            self._show_error(said(exc))
            return
        self._show_error("")
        self.store(form)

    @work(group="save", exclusive=True, exit_on_error=False)
    async def store(self, form: ScheduleForm) -> None:
        try:
            saved = await self.save(form)
        except OperatorError as exc:
            self.post_message(self.Failed(said(exc)))
            return
        self.dismiss(saved)

    def on_schedule_form_modal_failed(self, message: Failed) -> None:
        self._show_error(message.error)

    def _show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(self.palette.text(text, "text-error"))
