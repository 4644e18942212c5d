"""`compliance-tui jobs` (list, show, cancel, priority) and `compliance-tui worker`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain.models import JobStatus
from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.workspace import Workspace


def register(commands) -> None:
    jobs = commands.add_parser("jobs", help="the job queue").add_subparsers(dest="action", required=True)
    listing = jobs.add_parser("list", help="jobs, newest first")
    listing.add_argument("--status", choices=[s.value for s in JobStatus])
    listing.add_argument("--host")
    listing.add_argument("--json", action="store_true")
    show = jobs.add_parser("show", help="one job with its whole output log")
    show.add_argument("job_id", metavar="ID",
                      help="full UUID or its first 8 characters (a scan's id names the job that ran it)")
    show.add_argument("--json", action="store_true")
    cancel = jobs.add_parser("cancel", help="cancel a waiting or running job")
    cancel.add_argument("job_id", metavar="ID", help="the job's id, or its scan's")
    priority = jobs.add_parser("priority", help="set a waiting job's priority")
    priority.add_argument("job_id", metavar="ID")
    priority.add_argument("priority", metavar="N", help="1 (last) to 10 (first)")

    worker = commands.add_parser("worker", help="run queued jobs until stopped (SIGTERM/SIGINT)")
    worker.add_argument("--once", action="store_true", help="run what is queued now, then exit")
    worker.add_argument("--max-concurrent", type=int, metavar="N", help="jobs at once (default: jobs.max_concurrent, 64)")
    worker.add_argument("--zone", metavar="NAME",
                        help="run the jobs of this zone's hosts (default: of hosts without a zone)")


async def jobs_list(workspace: Workspace, args) -> int:
    if args.host:
        await workspace.store.require_host(args.host)
    jobs, _ = await workspace.store.find_jobs(status=args.status, host=args.host)
    if args.json:
        from core.views.serialize import job_to_dict

        print_json([job_to_dict(j) for j in jobs])
        return 0
    print_table(
        ["JOB", "HOST", "KIND", "PROFILE", "STATUS", "PRIO", "PROGRESS", "CREATED", "ERROR"],
        [[j.short_id, j.host_name, j.kind, j.profile, j.status.value, j.priority,
          j.progress_line if j.status is JobStatus.RUNNING else None,
          (j.created_at or "")[:19].replace("T", " "), j.error] for j in jobs],
    )
    return 0


async def jobs_show(workspace: Workspace, args) -> int:
    from core.jobs import queue
    from core.views.serialize import job_to_dict

    job = await queue.job_named(workspace.store, args.job_id)
    if args.json:
        print_json(job_to_dict(job, with_output=True))
        return 0
    for label, value in (
        ("id", job.id), ("host", job.host_name), ("kind", job.kind), ("profile", job.profile),
        ("status", job.status.value + (" (cancel requested)" if job.cancel_requested else "")),
        ("priority", job.priority), ("attempts", job.attempts), ("created", job.created_at),
        ("started", job.started_at), ("finished", job.finished_at),
        ("duration", f"{job.duration_s:.1f} s" if job.duration_s is not None else None),
        ("progress", job.progress_line), ("scan", job.scan_id),
        ("worker", job.lease_owner), ("error", job.error),
    ):
        say(f"{label:10} {'-' if value is None else value}")
    say("output:")
    say(job.output.rstrip() or "(nothing yet)")
    return 0


async def jobs_cancel(workspace: Workspace, args) -> int:
    from core.jobs import queue

    before = await queue.job_named(workspace.store, args.job_id)
    job = await workspace.store.cancel_job(before.id)
    if before.status.finished:
        say(f"job {job.short_id} has {job.status.value} already: nothing to cancel")
    elif job.status is JobStatus.CANCELLED:
        say(f"job {job.short_id} cancelled ({job.host_name})")
    else:
        say(f"job {job.short_id} is running on {job.lease_owner}: asked it to stop "
            "(it stops oscap on the target too)")
    return 0


async def jobs_priority(workspace: Workspace, args) -> int:
    from core.jobs import queue

    job = await workspace.store.set_job_priority(args.job_id, queue.check_priority(args.priority))
    say(f"job {job.short_id}: priority {job.priority}")
    return 0


async def worker(workspace: Workspace, args) -> int:
    from core.domain.policy import parse_zone
    from core.jobs.worker import run_worker
    from tui.cli.progress import JobProgress

    if args.max_concurrent is not None:
        workspace.configure(max_concurrent=max(1, args.max_concurrent))
    workspace.hub.subscribe(JobProgress(live=False))  # a line per job started and ended (journald)
    zone = parse_zone(args.zone)
    return await run_worker(workspace, once=args.once, zone=zone, say=lambda line: say(line, err=True))


COMMANDS = {
    ("jobs", "list"): jobs_list,
    ("jobs", "show"): jobs_show,
    ("jobs", "cancel"): jobs_cancel,
    ("jobs", "priority"): jobs_priority,
    ("worker", None): worker,
}
