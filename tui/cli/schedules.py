"""`compliance-tui schedules`: recurring scans that `compliance-tui worker` enqueues."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain.errors import InvalidInput
from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.domain.policy import Schedule
    from core.schedules import cadence as cadences
    from core.schedules import service
    from core.views.schedules import ScheduleRow
    from core.workspace import Workspace


def _target_options(parser, required: bool) -> None:
    target = parser.add_mutually_exclusive_group(required=required)
    target.add_argument("--hosts", metavar="NAME[,NAME...]", help="these hosts")
    target.add_argument("--all", action="store_true", dest="all_hosts", help="every host")
    target.add_argument("--tag", metavar="TAG", help="the hosts with this tag")
    when = parser.add_mutually_exclusive_group(required=required)
    when.add_argument("--daily", metavar="HH:MM", help="every day at this time")
    when.add_argument("--weekly", metavar="DAY@HH:MM", help="every week, e.g. mon@02:00")
    when.add_argument("--cron", metavar="EXPR", help="a five-field cron expression, e.g. '0 2 * * 1-5'")
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone of the times (default: this machine's)")
    parser.add_argument("--tailoring", metavar="FILE", type=Path, help="XCCDF tailoring file for its scans")
    parser.add_argument("--priority", metavar="N", help="1 (last) to 10 (first); default 5")
    parser.add_argument("--notify", metavar="NAME[,NAME...]",
                        help="drift alerts of its runs to these targets (compliance-tui notify add NAME)")
    parser.add_argument("--heartbeat", action=argparse.BooleanOptionalAction, default=None,
                        help="a message for every run, even when nothing changed")


def register(commands) -> None:
    schedules = commands.add_parser("schedules", help="recurring scans (run by compliance-tui worker)")
    actions = schedules.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a recurring scan")
    _target_options(add, required=True)
    add.add_argument("--profile", required=True, help="cis-level1-server, cis-level2-server or an xccdf id")
    add.add_argument("--json", action="store_true")
    edit = actions.add_parser("edit", help="change a schedule (what is given)")
    edit.add_argument("schedule_id", metavar="ID")
    _target_options(edit, required=False)
    edit.add_argument("--profile")
    edit.add_argument("--clear-tailoring", action="store_true")
    edit.add_argument("--no-notify", action="store_true", help="no drift alerts of its own ([notify] targets stay)")
    edit.add_argument("--json", action="store_true")
    actions.add_parser("list", help="schedules with next run, last run and outcome").add_argument(
        "--json", action="store_true")
    for action, text in (("pause", "pause a schedule"), ("resume", "resume a paused schedule (from its next slot)"),
                         ("remove", "delete a schedule (its past scans stay)")):
        actions.add_parser(action, help=text).add_argument("schedule_id", metavar="ID")
    runs = actions.add_parser("runs", help="a schedule's runs and how their drift alerts went")
    runs.add_argument("schedule_id", metavar="ID")
    runs.add_argument("--json", action="store_true")


def cadence_of(args) -> cadences.Cadence | None:
    from core.schedules import cadence as cadences

    if args.daily:
        return cadences.daily(args.daily)
    if args.weekly:
        return cadences.weekly(args.weekly)
    if args.cron:
        return cadences.cron(args.cron)
    return None


def target_of(args) -> service.Target | None:
    from core.schedules import service

    if not (args.hosts or args.all_hosts or args.tag):
        return None
    return service.Target.of(args.hosts, args.all_hosts, args.tag)


def schedule_id(schedule: Schedule) -> str:
    """A stored schedule's id (the service returns stored ones)."""
    assert schedule.id is not None
    return schedule.id


async def _row(workspace: Workspace, schedule_id: str) -> ScheduleRow:
    from core.views.schedules import schedules_view

    view = await schedules_view(workspace.store)
    return next(r for r in view.rows if r.schedule.id == schedule_id)


def row_to_dict(row: ScheduleRow) -> dict:
    from core.views.serialize import schedule_to_dict

    return schedule_to_dict(row.schedule, next_run=row.next_run, outcome=row.outcome_counts, hosts=row.hosts,
                            missing=row.missing, cadence_text=row.cadence_text)


def _when(iso: str | None) -> str | None:
    return iso[:16].replace("T", " ") + " UTC" if iso else None


async def _show(workspace: Workspace, schedule_id: str, verb: str, as_json: bool) -> int:
    row = await _row(workspace, schedule_id)
    if as_json:
        print_json(row_to_dict(row))
        return 0
    s = row.schedule
    say(f"{verb} schedule {s.short_id}: {s.profile} of {s.target_text()} ({row.hosts} host(s) now), "
        f"{row.cadence_text} {s.tz}; next run {_when(row.next_run) or 'none (paused)'}")
    if s.notify:
        say(f"drift alerts to {', '.join(s.notify)}{' (every run)' if s.heartbeat else ''}")
    if row.missing:
        say(f"warning: no host named {', '.join(row.missing)}; those are skipped", err=True)
    await _warn_unset(s.notify)
    return 0


async def _warn_unset(names: tuple[str, ...]) -> None:
    """A target named before its URL is given is fine, but say so: its digests would fail."""
    import asyncio

    from core.notify import targets

    found = await asyncio.to_thread(lambda: [targets.find(n) for n in names])
    for target in (t for t in found if t.url is None):
        say(f"warning: target {target.name} has no URL here: `compliance-tui notify add {target.name}` "
            f"or ${targets.env_name(target.name)} where the worker runs", err=True)


async def schedules_add(workspace: Workspace, args) -> int:
    from core.schedules import service

    # argparse requires a target and a time; an empty one (--hosts "", --daily "") is neither
    target = service.Target.of(args.hosts, args.all_hosts, args.tag)  # says what to give
    cadence = cadence_of(args)
    if cadence is None:
        raise InvalidInput("give the schedule's time: --daily HH:MM, --weekly DAY@HH:MM or --cron EXPR")
    schedule = await service.add_schedule(workspace, target, args.profile, cadence, args.tz,
                                          args.tailoring, args.priority or 5, service.notify_names(args.notify),
                                          bool(args.heartbeat))
    await _show(workspace, schedule_id(schedule), "added", args.json)
    if not args.json:
        say("scans are enqueued by `compliance-tui worker` (or the TUI while it is open)", err=True)
    return 0


async def schedules_edit(workspace: Workspace, args) -> int:
    from core.schedules import cadence as cadences
    from core.schedules import service

    if args.tz and not cadence_of(args):
        cadences.zone(args.tz)
    schedule = await service.edit_schedule(
        workspace, args.schedule_id, target=target_of(args), profile=args.profile, cadence=cadence_of(args),
        tz=args.tz, tailoring_file=args.tailoring, clear_tailoring=args.clear_tailoring, priority=args.priority,
        notify=() if args.no_notify else (service.notify_names(args.notify) if args.notify is not None else None),
        heartbeat=args.heartbeat)
    return await _show(workspace, schedule_id(schedule), "changed", args.json)


async def schedules_list(workspace: Workspace, args) -> int:
    from core.views.schedules import schedules_view

    view = await schedules_view(workspace.store)
    if args.json:
        print_json([row_to_dict(r) for r in view.rows])
        return 0
    print_table(["ID", "TARGET", "PROFILE", "CADENCE", "TZ", "STATE", "NEXT RUN", "LAST RUN", "LAST OUTCOME"],
                [[r.schedule.short_id, r.schedule.target_text(), r.schedule.profile, r.cadence_text, r.schedule.tz,
                  r.state, _when(r.next_run), _when(r.last_run), r.problem or r.outcome] for r in view.rows])
    return 0


async def schedules_pause(workspace: Workspace, args) -> int:
    from core.schedules import service

    schedule = await service.set_paused(workspace, args.schedule_id, True)
    say(f"schedule {schedule.short_id} paused: no scans until `compliance-tui schedules resume {schedule.short_id}`")
    return 0


async def schedules_resume(workspace: Workspace, args) -> int:
    from core.schedules import service

    schedule = await service.set_paused(workspace, args.schedule_id, False)
    return await _show(workspace, schedule_id(schedule), "resumed", False)


async def schedules_remove(workspace: Workspace, args) -> int:
    from core.schedules import service

    schedule = await service.remove_schedule(workspace, args.schedule_id)
    say(f"removed schedule {schedule.short_id} ({schedule.profile} of {schedule.target_text()}); its scans stay")
    return 0


def check_edit(args) -> None:
    if not any((args.hosts, args.all_hosts, args.tag, args.daily, args.weekly, args.cron, args.tz,
                args.tailoring, args.priority, args.profile, args.clear_tailoring, args.notify is not None,
                args.no_notify, args.heartbeat is not None)):
        raise InvalidInput("nothing to change: give --hosts/--all/--tag, --daily/--weekly/--cron, --tz, "
                           "--profile, --tailoring, --clear-tailoring, --priority, --notify, --no-notify or "
                           "--[no-]heartbeat")
    if args.notify is not None and args.no_notify:
        raise InvalidInput("give --notify NAME[,NAME...] or --no-notify, not both")


async def _edit(workspace: Workspace, args) -> int:
    check_edit(args)
    return await schedules_edit(workspace, args)


async def schedules_runs(workspace: Workspace, args) -> int:
    schedule = await workspace.store.get_schedule(args.schedule_id)
    runs = await workspace.store.schedule_runs(schedule_id(schedule))
    if args.json:
        print_json([{"slot": r["slot"], "enqueued": r["enqueued_at"], "by": r["enqueued_by"], "jobs": r["jobs"],
                     "notify": r["notify_state"], "notify_note": r["notify_note"]} for r in runs])
        return 0
    print_table(["RUN", "JOBS", "ALERT", "HOW"],
                [[_when(r["slot"]), r["jobs"], STATE_WORDS.get(r["notify_state"] or "", r["notify_state"]),
                  r["notify_note"]] for r in reversed(runs)])
    return 0


# a run's notify_state, in words (None: its jobs have not all ended yet)
STATE_WORDS = {"": "waiting", "sending": "sending", "sent": "sent", "failed": "failed", "quiet": "quiet",
               "none": "no targets", "before": "-"}


COMMANDS = {
    ("schedules", "add"): schedules_add,
    ("schedules", "edit"): _edit,
    ("schedules", "list"): schedules_list,
    ("schedules", "pause"): schedules_pause,
    ("schedules", "resume"): schedules_resume,
    ("schedules", "remove"): schedules_remove,
    ("schedules", "runs"): schedules_runs,
}
