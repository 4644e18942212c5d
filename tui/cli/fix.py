"""`compliance-tui fix` (Quick Fix of failed rules of a scan) and `harden` (every failed rule
of a host's latest scan of a profile): preview, confirmation, then a hardening job."""

from __future__ import annotations

import sys
from pathlib import Path

from core.domain.errors import OperatorError
from core.domain.models import JobStatus
from core.jobs import queue
from core.jobs.harden import DEFAULT_GRACE
from core.jobs.runner import Runner
from core.remediation import planning
from core.remediation.fixes import playbook, whole_script
from core.results.exports import write_atomically
from core.views.serialize import job_to_dict
from core.workspace import Workspace
from tui.cli.output import print_json, print_table, say
from tui.cli.progress import JobProgress

EXIT_ERROR = 1


def register(commands) -> None:
    fix = commands.add_parser("fix", help="Quick Fix: harden a host for failed rules of one of its scans")
    fix.add_argument("scan_id", metavar="SCAN_ID", help="full UUID or its first 8 characters")
    fix.add_argument("--rule", action="append", required=True, metavar="RULE_ID",
                     help="a failed rule of that scan (repeat for more); the content_rule_ prefix may go")
    harden = commands.add_parser("harden", help="fix every failed rule of a host's latest scan of a profile")
    harden.add_argument("host", metavar="HOST")
    harden.add_argument("--profile", required=True, help="cis-level1-server, cis-level2-server or an xccdf id")
    for sub in (fix, harden):
        sub.add_argument("--dry-run", action="store_true", help="show the exact script and its warnings; change nothing")
        sub.add_argument("--format", choices=("sh", "ansible"), default="sh",
                         help="ansible: write an Ansible playbook of the fixes (with -o) instead")
        sub.add_argument("-o", "--output", type=Path, metavar="FILE", help="where --format ansible writes")
        sub.add_argument("--yes", action="store_true", help="do not ask (scripts and CI)")
        sub.add_argument("--json", action="store_true")
        sub.add_argument("--enqueue", action="store_true", help="leave the job to a worker")
        sub.add_argument("--priority", default=5, metavar="N", help="1 (last) to 10 (first)")
        sub.add_argument("--grace", type=int, default=DEFAULT_GRACE, metavar="SECONDS",
                         help=f"the dead man's switch restores /etc this long after the last sign of life "
                              f"(default {DEFAULT_GRACE})")


async def fix(workspace: Workspace, args) -> int:
    system = "ansible" if args.format == "ansible" else "sh"
    request = await planning.quick_fix(workspace, args.scan_id, args.rule, system)
    return await _go(workspace, args, request)


async def harden(workspace: Workspace, args) -> int:
    system = "ansible" if args.format == "ansible" else "sh"
    request = await planning.harden(workspace, args.host, args.profile, system)
    return await _go(workspace, args, request)


async def _go(workspace: Workspace, args, request: planning.FixRequest) -> int:
    if args.format == "ansible":
        if not args.output:
            raise OperatorError("--format ansible writes a playbook: give the file with -o FILE")
        path = write_atomically(args.output, playbook(request.plan, request.host.name))
        say(f"wrote an Ansible playbook of {len(request.plan.fixes)} fix(es) to {path}")
        return 0
    if args.dry_run:
        _preview(request, args.json)
        return 0
    if not args.json:
        _preview(request, False, script=False)
    _confirm(request, args.yes)
    params = request.params(args.grace)
    priority = queue.check_priority(args.priority)
    if args.enqueue:
        job = await queue.harden_for_workers(workspace, request.host, params, priority)
        if args.json:
            print_json(job_to_dict(job))
        else:
            say(f"{job.id} {job.host_name}: hardening pending (a worker runs it: compliance-tui worker)")
        return 0
    unsubscribe = workspace.hub.subscribe(JobProgress(live=None if not args.json else False))
    runner = await Runner(workspace).start()
    try:
        job = await runner.enqueue_harden(request.host, params, priority)
        (job,) = await runner.wait_for([job.id])
    finally:
        await runner.stop()
        unsubscribe()
    if args.json:
        print_json(job_to_dict(job, with_output=True))
    else:
        say(job.output.rstrip())
        say(f"{job.short_id} {job.host_name}: {job.status.value}" + (f": {job.error}" if job.error else ""))
    return 0 if job.status is JobStatus.COMPLETED else EXIT_ERROR


def _preview(request: planning.FixRequest, as_json: bool, script: bool = True) -> None:
    plan, host = request.plan, request.host
    text = whole_script(plan, host.name)
    if as_json:
        print_json({
            "host": host.name, "scan": request.scan.id, "content": request.datastream.path.name,
            "profile_id": request.profile_id, "warnings": plan.warnings(),
            "second_confirmation": plan.needs_second_confirmation,
            "fixes": [{"rule_id": f.rule_id, "title": f.title, "severity": f.severity, "reboot": f.reboot,
                       "disruption": f.disruption, "complexity": f.complexity, "strategy": f.strategy,
                       "risks": list(f.risks)} for f in plan.fixes],
            "without_fix": [{"rule_id": m.rule_id, "title": m.title, "fixtext": m.fixtext} for m in plan.missing],
            "script": text,
        })
        return
    say(f"Quick Fix of {host.name}: {len(plan.fixes)} fix(es) from scan {request.scan.short_id} "
        f"({request.datastream.path.name}, SSG {request.datastream.version})")
    print_table(["RULE", "SEVERITY", "REBOOT", "DISRUPTION", "COMPLEXITY", "STRATEGY", "CHANGES"],
                [[f.short_id, f.severity, "yes" if f.reboot else "no", f.disruption or "?", f.complexity or "?",
                  f.strategy or "?", ", ".join(f.risks) or "-"] for f in plan.fixes])
    for line in plan.warnings():
        say(f"warning: {line}")
    for missing in plan.missing:
        say(f"no automated fix: {missing.rule_id}: {missing.title}")
        for line in missing.fixtext.splitlines()[:8]:
            say(f"    {line}")
    if script:
        say("")
        say(text.rstrip())


def _confirm(request: planning.FixRequest, yes: bool) -> None:
    plan = request.plan
    if yes:
        return
    if not sys.stdin.isatty():
        raise OperatorError("nothing was changed: read the script with --dry-run, then run again with --yes")
    if input(f"Apply {len(plan.fixes)} fix(es) to {request.host.name} as root? [y/N] ").strip().lower() not in ("y", "yes"):
        raise OperatorError("nothing was changed")
    if plan.needs_second_confirmation:
        risky = [f.short_id for f in plan.fixes if f.needs_second_confirmation]
        answer = input(f"{', '.join(risky)} may need a reboot or disrupt services. Type 'yes' to go on: ")
        if answer.strip().lower() != "yes":
            raise OperatorError("nothing was changed")


COMMANDS = {("fix", None): fix, ("harden", None): harden}
