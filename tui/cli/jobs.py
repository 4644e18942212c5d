"""`compliance-tui jobs` (list, show, cancel, priority) and `compliance-tui worker`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from core.domain.models import JobStatus
from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.workspace import Workspace

# How a worker starts the other processes of `worker --processes N`: this program again (a test's
# stand-in program names itself here).
CHILD_PROGRAM: tuple[str, ...] = ("-m", "tui")


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
    worker.add_argument("--processes", metavar="N",
                        help="worker processes sharing the queue, --max-concurrent divided among them "
                             "(default: the usable cores; 1: this process only)")
    worker.add_argument("--child-of", type=int, metavar="PID", help=argparse.SUPPRESS)  # one of --processes


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
    from core.jobs.processes import Children, check_processes, die_with_parent, share
    from core.jobs.worker import run_worker
    from tui.cli.progress import JobProgress

    zone = parse_zone(args.zone)
    child = args.child_of is not None
    processes = 1 if child else check_processes(args.processes)
    if child and not die_with_parent(args.child_of):
        return 0  # the worker that started this one has ended already
    total = workspace.settings.max_concurrent if args.max_concurrent is None else max(1, args.max_concurrent)
    each = share(total, processes)  # a child's; this process takes what the division leaves over
    workspace.configure(max_concurrent=max(1, total - each * (processes - 1)))
    workspace.hub.subscribe(JobProgress(live=False))  # a line per job started and ended (journald)

    def err(line: str) -> None:
        say(line, err=True)

    children = None
    if processes > 1:
        children = Children(_child_argv(workspace, args, each), processes - 1,
                            once=args.once, say=err)
    return await run_worker(workspace, once=args.once, zone=zone, say=err, children=children, lead=not child)


def _child_argv(workspace: Workspace, args, max_concurrent: int) -> list[str]:
    """The same worker, one process of it: the same data dir and store (a URL on the command line
    never holds a password; PGPASSWORD and the sudo passwords come through the environment)."""
    import os

    argv = [sys.executable, *CHILD_PROGRAM, "--data-dir", str(workspace.data_dir)]
    if args.store:
        argv += ["--store", args.store]
    argv += ["worker", "--max-concurrent", str(max_concurrent), "--child-of", str(os.getpid())]
    if args.once:
        argv.append("--once")
    if args.zone:
        argv += ["--zone", args.zone]
    return argv


COMMANDS = {
    ("jobs", "list"): jobs_list,
    ("jobs", "show"): jobs_show,
    ("jobs", "cancel"): jobs_cancel,
    ("jobs", "priority"): jobs_priority,
    ("worker", None): worker,
}
