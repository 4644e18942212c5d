"""`compliance-tui fix` (Quick Fix of failed rules of a scan), `fix rollback JOB` (put back the
files a hardening job changed) and `harden` (every failed rule of hosts' latest scan of a
profile): a summary that cannot be missed, the script, a confirmation, then hardening jobs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain.errors import InvalidInput, OperatorError
from core.domain.models import JobStatus
from core.domain.text import neutralise
from core.remediation.grace import DEFAULT_GRACE, MAX_GRACE, check_grace
from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.remediation import planning
    from core.workspace import Workspace

EXIT_ERROR = 1


def register(commands) -> None:
    fix = commands.add_parser("fix", help="Quick Fix failed rules of a scan; `fix rollback JOB` undoes a hardening job",
                              usage="%(prog)s SCAN_ID --rule RULE_ID [...] | %(prog)s rollback JOB_ID")
    fix.add_argument("scan_id", metavar="SCAN_ID", help="full UUID or its first 8 characters (or: rollback)")
    fix.add_argument("job_id", metavar="JOB_ID", nargs="?", help="with rollback: the hardening job to undo")
    fix.add_argument("--rule", action="append", default=[], metavar="RULE_ID",
                     help="a failed rule of that scan (repeat for more); the content_rule_ prefix may go")
    harden = commands.add_parser("harden", help="fix every failed rule of hosts' latest scan of a profile")
    harden.add_argument("hosts", metavar="HOST", nargs="+")
    harden.add_argument("--profile", required=True, help="cis-level1-server, cis-level2-server or an xccdf id")
    harden.add_argument("--no-canary", action="store_true",
                        help="harden every host at once (default: the first host, then the rest once it passed)")
    for sub in (fix, harden):
        sub.add_argument("--dry-run", action="store_true", help="show the exact script and its warnings; change nothing")
        sub.add_argument("--format", choices=("sh", "ansible"), default="sh",
                         help="ansible: write an Ansible playbook of the fixes (with -o) instead")
        sub.add_argument("-o", "--output", type=Path, metavar="FILE", help="where --format ansible writes")
        sub.add_argument("--yes", action="store_true", help="do not ask (scripts and CI)")
        sub.add_argument("--json", action="store_true")
        sub.add_argument("--enqueue", action="store_true", help="leave the job to a worker")
        sub.add_argument("--priority", default=5, metavar="N", help="1 (last) to 10 (first)")
        sub.add_argument("--grace", default=DEFAULT_GRACE, metavar="SECONDS",
                         help=f"the dead man's switch restores /etc this long after the last sign of life "
                              f"(60 to {MAX_GRACE}; default {DEFAULT_GRACE})")


async def fix(workspace: Workspace, args) -> int:
    from core.remediation import planning

    check_grace(args.grace)  # refused before anything is read or run
    if args.scan_id == "rollback":
        return await _rollback(workspace, args)
    if args.job_id:
        raise InvalidInput(f"unexpected {args.job_id!r}: give the rules with --rule RULE_ID")
    system = "ansible" if args.format == "ansible" else "sh"
    request = await planning.quick_fix(workspace, args.scan_id, args.rule, system)
    return await _go(workspace, args, [request])


async def harden(workspace: Workspace, args) -> int:
    from core.remediation import planning

    check_grace(args.grace)
    system = "ansible" if args.format == "ansible" else "sh"
    requests = [await planning.harden(workspace, host, args.profile, system) for host in dict.fromkeys(args.hosts)]
    return await _go(workspace, args, requests)


async def _go(workspace: Workspace, args, requests: list[planning.FixRequest]) -> int:
    from core.jobs import submit
    from core.remediation.fixes import playbook
    from core.results.exports import write_atomically
    from tui.cli.progress import wait_here

    if args.format == "ansible":
        if not args.output or len(requests) > 1:
            raise OperatorError("--format ansible writes one host's playbook: give one host and the file with -o FILE")
        request = requests[0]
        path = write_atomically(args.output, playbook(request.plan, request.host.name))
        say(f"wrote an Ansible playbook of {len(request.plan.fixes)} fix(es) to {path}")
        return 0
    if args.dry_run:
        _preview(requests, args.json)
        return 0
    if not args.json:
        _preview(requests, False, script=False)
    _confirm(requests, args.yes)
    params = [(r.host, r.params(args.grace)) for r in requests]
    canary = not getattr(args, "no_canary", False)
    if args.enqueue:
        jobs = await submit.hardening(workspace, params, args.priority, submit.WORKERS, canary)
        if args.json:
            _print_jobs(jobs)
        for job in jobs if not args.json else ():
            followers = len(job.params.get("then") or [])
            say(f"{job.id} {job.host_name}: hardening pending (a worker runs it: compliance-tui worker)"
                + (f"; the other {followers} host(s) follow once it passed" if followers else ""))
        return 0
    return _ended(args, await submit.hardening(workspace, params, args.priority, wait_here(args.json), canary))


def _ended(args, ended) -> int:
    """Each job that ran here (and each a canary released): its log and how it ended."""
    if args.json:
        _print_jobs(ended, with_output=True)
    for job in ended if not args.json else ():
        say(job.output.rstrip())
        say(f"{job.short_id} {job.host_name}: {job.status.value}" + (f": {job.error}" if job.error else ""))
    return 0 if all(job.status is JobStatus.COMPLETED for job in ended) else EXIT_ERROR


def _print_jobs(jobs, with_output: bool = False) -> None:
    from core.views.serialize import job_to_dict

    shapes = [job_to_dict(job, with_output=with_output) for job in jobs]
    print_json(shapes[0] if len(shapes) == 1 else shapes)


def _preview(requests: list[planning.FixRequest], as_json: bool, script: bool = True) -> None:
    from core.remediation.fixes import summary_lines, whole_script

    if as_json:
        print_json([_preview_json(r) for r in requests] if len(requests) > 1 else _preview_json(requests[0]))
        return
    for request in requests:
        plan, host = request.plan, request.host
        say(f"Quick Fix of {host.name}: {len(plan.fixes)} fix(es) from scan {request.scan.short_id} "
            f"({request.datastream.path.name}, SSG {request.datastream.version})")
        for line in summary_lines(plan.warning_classes(), 100):
            say(f"warning: {line}")
        for value in plan.values:
            say(f"value: {value.short_id} = {value.value}  ({value.source})")
        print_table(["RULE", "SEVERITY", "REBOOT", "DISRUPTION", "COMPLEXITY", "STRATEGY", "CHANGES"],
                    [[f.short_id, f.severity, "yes" if f.reboot else "no", f.disruption or "-", f.complexity or "-",
                      f.strategy or "-", ", ".join(f.risks) or "-"] for f in plan.fixes])
        for missing in plan.missing:
            say(f"no automated fix: {missing.rule_id}: {missing.title}")
            for line in missing.fixtext.splitlines()[:8]:
                say(f"    {line}")
        if script:
            say("")
            say(whole_script(plan, host.name).rstrip())


def _preview_json(request: planning.FixRequest) -> dict:
    from core.remediation.fixes import whole_script

    plan, host = request.plan, request.host
    return {
        "host": host.name, "scan": request.scan.id, "content": request.datastream.path.name,
        "profile_id": request.profile_id, "warnings": plan.warnings(),
        "warning_classes": {what: rules for what, rules in plan.warning_classes()},
        "values": [{"id": v.id, "value": v.value, "source": v.source} for v in plan.values],
        "second_confirmation": plan.needs_second_confirmation,
        "fixes": [{"rule_id": f.rule_id, "title": f.title, "severity": f.severity, "reboot": f.reboot,
                   "disruption": f.disruption, "complexity": f.complexity, "strategy": f.strategy,
                   "risks": list(f.risks)} for f in plan.fixes],
        "without_fix": [{"rule_id": m.rule_id, "title": m.title, "fixtext": m.fixtext} for m in plan.missing],
        "script": whole_script(plan, host.name),
    }


def _confirm(requests: list[planning.FixRequest], yes: bool) -> None:
    from core.remediation import planning

    if yes:
        return
    if not sys.stdin.isatty():
        raise OperatorError("nothing was changed: read the script with --dry-run, then run again with --yes")
    count, hosts = sum(len(r.plan.fixes) for r in requests), ", ".join(r.host.name for r in requests)
    word = planning.typed_confirmation(requests)
    if word is None:
        answer = input(f"Apply {count} fix(es) to {hosts} as root? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise OperatorError("nothing was changed")
    else:
        what = f"the number of hosts ({word})" if len(requests) > 1 else f"the host's name ({word})"
        if input(f"Apply {count} fix(es) to {hosts} as root? Type {what} to go on: ").strip() != word:
            raise OperatorError("nothing was changed")
    risky = [f.short_id for r in requests for f in r.plan.fixes if f.needs_second_confirmation]
    if risky:
        answer = input(f"{', '.join(risky)} may need a reboot or disrupt services. Type 'yes' to go on: ")
        if answer.strip().lower() != "yes":
            raise OperatorError("nothing was changed")


async def _rollback(workspace: Workspace, args) -> int:
    from core.jobs import rollback, submit
    from tui.cli.progress import wait_here

    if not args.job_id:
        raise InvalidInput("give the hardening job to roll back: compliance-tui fix rollback JOB_ID")
    job = await workspace.store.get_job(args.job_id)
    params = rollback.rollback_params(job, args.grace)
    found = await rollback.preview(workspace, job.id)
    if args.json and args.dry_run:
        print_json({"job": job.id, "host": found.host, "archive": found.directory,
                    "files": [{"kind": kind, "path": path} for kind, path in found.files], "diff": found.diff})
        return 0
    if not args.json:
        say(f"job {job.short_id} on {found.host} changed {len(found.files)} file(s) of /etc "
            f"(archive {found.directory}):")
        for kind, path in found.files:
            say(f"  {kind:8} {path}")
        say(neutralise(found.diff).rstrip())  # the target's words
    if args.dry_run:
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise OperatorError("nothing was changed: read the diff with --dry-run, then run again with --yes")
        if input(rollback.describe(found) + " [y/N] ").strip().lower() not in ("y", "yes"):
            raise OperatorError("nothing was changed")
    host = await workspace.store.require_host(found.host)
    if args.enqueue:
        jobs = await submit.hardening(workspace, [(host, params)], args.priority, submit.WORKERS)
        if args.json:
            _print_jobs(jobs)
        else:
            say(f"{jobs[0].id} {host.name}: rollback pending (a worker runs it: compliance-tui worker)")
        return 0
    return _ended(args, await submit.hardening(workspace, [(host, params)], args.priority, wait_here(args.json)))


COMMANDS = {("fix", None): fix, ("harden", None): harden}
