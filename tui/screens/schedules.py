"""Schedules: recurring scans with their next run, last run and last outcome.

a adds, e (or enter) edits, p pauses or resumes, d deletes (asks first). The worker enqueues
due scans; so does this app while it is open (tui/services/schedules.py). Times are UTC, as
everywhere in the app; the detail line shows the schedule's own zone.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from core.domain.events import JobEvent
from core.domain.timeutil import parse_iso
from core.jobs.worker import worker_alive
from core.schedules import cadence as cadences
from core.schedules import service
from core.views.schedules import ScheduleRow, SchedulesView, schedules_view
from tui.base.screen import BaseScreen, Read
from tui.common import keymap
from tui.common.words import plural
from tui.modals.confirm import ConfirmModal
from tui.modals.schedule_form import ScheduleForm, ScheduleFormModal
from tui.widgets.cards import NavBar
from tui.widgets.cells import DASH, day_time, short_profile
from tui.widgets.keyed_table import Column, KeyedTable

OUTCOME_VARS = {"failed": "text-error", "completed": "text-success", "running": "text-primary",
                "queued": "text-primary", "pending": "foreground-muted", "cancelled": "foreground-muted"}


def schedule_id(row: ScheduleRow) -> str:
    """A listed schedule's id: it is stored, so it has one."""
    assert row.schedule.id is not None
    return row.schedule.id


class SchedulesScreen(BaseScreen):
    MODE = "schedules"
    MAIN = "schedules"
    BINDINGS = keymap.bindings("schedules")

    def __init__(self) -> None:
        super().__init__()
        self.view: SchedulesView | None = None
        self.rows: dict[str, ScheduleRow] = {}
        self._select: str | None = None  # a saved schedule: the cursor goes there on the next load

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield Static(id="schedules-note", classes="detail")
        yield KeyedTable([
            Column("id", "ID", 8),
            Column("target", "Target", None, min_width=9, flex=2),
            Column("profile", "Profile", 7),
            Column("cadence", "Cadence", None, min_width=12, flex=3),
            Column("next", "Next run", 11),
            Column("last", "Last run", 11),
            Column("outcome", "Outcome", None, min_width=10, flex=2),
        ], empty="no schedules yet: press a to add a recurring scan", id="schedules")
        yield Static(id="schedule-detail", classes="detail")
        yield Footer(compact=True, show_command_palette=False)

    # ---------------------------------------------------------------- loading

    def read(self) -> Read:
        return partial(schedules_view, self.workspace.store, self.state.clock())

    def show(self, view: SchedulesView) -> bool:
        self.view = view
        self.rows = {schedule_id(r): r for r in view.rows}
        self._show_note(view)
        table = self.query_one("#schedules", KeyedTable)
        table.set_rows((schedule_id(r), self._row(r)) for r in view.rows)
        if self._select and table.move_to(self._select):
            self._select = None
        self._show_detail()
        return view.active_jobs > 0

    def _show_note(self, view: SchedulesView) -> None:
        palette = self.palette
        line = Text(no_wrap=True, overflow="ellipsis")
        active = sum(1 for r in view.rows if not r.schedule.paused)
        line.append(f"{plural(len(view.rows), 'schedule')}, {active} active · times in UTC")
        if view.rows and not worker_alive(view.worker_seen, self.state.clock()):
            line.append_text(palette.text(
                " · no worker seen: this app runs due scans while it is open",
                "text-warning"))
        self.query_one("#schedules-note", Static).update(line)

    def _row(self, row: ScheduleRow) -> tuple:
        palette, s = self.palette, row.schedule
        if row.problem:
            outcome = palette.text(row.problem, "text-error")
        elif row.outcome_counts:
            worst = next((k for k in ("failed", "running", "queued", "pending", "completed", "cancelled")
                          if row.outcome_counts.get(k)), None)
            outcome = palette.text(row.outcome, OUTCOME_VARS.get(worst or ""))
        else:
            outcome = palette.muted(row.outcome)
        target = Text(s.target_text())
        if row.missing:
            target.append_text(palette.text(" !", "text-warning"))
        now = self.state.clock()
        nxt = palette.muted("paused") if s.paused else Text(day_time(row.next_run, now) if row.next_run else DASH)
        return (Text(s.short_id), target, Text(short_profile(s.profile)), Text(s.cadence),
                nxt, Text(day_time(row.last_run, now)), outcome)

    # ---------------------------------------------------------------- selection

    def _current(self) -> ScheduleRow | None:
        key = self.query_one("#schedules", KeyedTable).cursor_key
        return self.rows.get(key) if key else None

    @on(KeyedTable.Highlighted, "#schedules")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row, palette = self._current(), self.palette
        detail = self.query_one("#schedule-detail", Static)
        if row is None:
            detail.update("")
            return
        s = row.schedule
        line = Text(overflow="ellipsis")
        line.append(f"{s.short_id} · {s.profile} of {s.target_text()} ({plural(row.hosts, 'host')} now) · "
                    f"{row.cadence_text}, {s.tz} · priority {s.priority}")
        if row.next_run:
            local = parse_iso(row.next_run).astimezone(cadences.zone(s.tz)).strftime("%a %Y-%m-%d %H:%M")
            line.append(f" · next {local} {s.tz}")
        if s.tailoring:
            line.append(" · tailored")
        if s.notify:
            line.append(f" · alerts to {', '.join(s.notify)}{' after every run' if s.heartbeat else ''}")
        if row.missing:
            line.append_text(palette.text(f" · no host named {', '.join(row.missing)}: skipped", "text-warning"))
        detail.update(line)

    # ---------------------------------------------------------------- actions

    def action_add(self) -> None:
        self.app.push_screen(ScheduleFormModal(None, self._save_new), self._saved)

    def action_edit(self) -> None:
        row = self._current()
        if row is not None:
            self.app.push_screen(ScheduleFormModal(row.schedule, lambda form: self._save_edit(schedule_id(row), form)),
                                 self._saved)

    async def _save_new(self, form: ScheduleForm):
        return await service.add_schedule(self.workspace, form.target, form.profile, form.cadence, form.tz,
                                          form.tailoring, form.priority, form.notify, form.heartbeat)

    async def _save_edit(self, schedule_id: str, form: ScheduleForm):
        return await service.edit_schedule(self.workspace, schedule_id, target=form.target,
                                           profile=form.profile, cadence=form.cadence, tz=form.tz,
                                           tailoring_file=form.tailoring, priority=form.priority,
                                           notify=form.notify, heartbeat=form.heartbeat)

    def _saved(self, schedule) -> None:
        if schedule is not None:
            self.notify(f"schedule {schedule.short_id} saved: {schedule.profile} of {schedule.target_text()}",
                        timeout=4)
            self._select = schedule.id
            self.reload()

    def action_pause(self) -> None:
        row = self._current()
        if row is not None:
            self.toggle_pause(schedule_id(row), not row.schedule.paused)

    @work(group="schedule-action", exit_on_error=False)
    async def toggle_pause(self, schedule_id: str, paused: bool) -> None:
        schedule = await service.set_paused(self.workspace, schedule_id, paused)
        self.notify(f"schedule {schedule.short_id} " + ("paused" if paused else "resumed from its next slot"),
                    timeout=4)
        self.reload()

    def action_delete(self) -> None:
        row = self._current()
        if row is None:
            return
        s = row.schedule

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(schedule_id(row))

        self.app.push_screen(ConfirmModal(
            f"Delete schedule {s.short_id} ({s.profile} of {s.target_text()}, {s.cadence})? Its past scans stay.",
            confirm="Delete", title="Delete schedule", danger=True), answered)

    @work(group="schedule-action", exit_on_error=False)
    async def delete(self, schedule_id: str) -> None:
        schedule = await service.remove_schedule(self.workspace, schedule_id)
        self.notify(f"schedule {schedule.short_id} deleted", timeout=4)
        self.reload()

    @on(KeyedTable.Chosen, "#schedules")
    def _chosen(self) -> None:
        self.action_edit()

    def on_job_event(self, event: JobEvent) -> None:
        if event.kind in ("created", "finished") and event.job.params.get("schedule"):
            self.reload()
