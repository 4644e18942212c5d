"""`compliance-tui scan`, `scans list` and `results`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.domain.errors import InvalidInput
from core.domain.models import RESULT_VALUES, ScanStatus
from tui.cli.output import print_json, print_table, say
from tui.cli.reports import SYSTEMS_HELP, reference_system, to_stdout

if TYPE_CHECKING:
    from core.workspace import Workspace

EXIT_ERROR, EXIT_BELOW_THRESHOLD = 1, 3
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"  # left out of the control table's rule lists


def register(commands) -> None:
    scan = commands.add_parser("scan", help="scan hosts and wait for the results (or leave them to a worker)")
    scan.add_argument("names", nargs="+", metavar="NAME")
    scan.add_argument("--profile", required=True,
                      help="cis-level1-server, cis-level2-server or an xccdf profile id")
    scan.add_argument("--json", action="store_true")
    scan.add_argument("--fail-under", type=float, metavar="SCORE", help="exit 3 when a score is below")
    scan.add_argument("--timeout", type=int, metavar="SECONDS", help="per-scan timeout")
    scan.add_argument("--max-concurrent", type=int, metavar="N", help="scans at once")
    scan.add_argument("--priority", default=5, metavar="N", help="1 (last) to 10 (first); default 5")
    scan.add_argument("--tailoring", metavar="FILE", type=Path,
                      help="XCCDF tailoring file for these scans (instead of the hosts' own)")
    scan.add_argument("--enqueue", action="store_true",
                      help="leave the scans to a worker (compliance-tui worker) and print their job ids")
    scan.add_argument("--junit", metavar="FILE", type=Path, help="write a JUnit XML file: a test case per rule")
    scan.add_argument("--sarif", metavar="FILE", type=Path, help="write a SARIF 2.1.0 file: a result per failed rule")
    scan.add_argument("--fail-on-new", action="store_true",
                      help="exit 3 when a rule that passed in the host's previous scan of the profile fails now")

    scans = commands.add_parser("scans", help="list scans").add_subparsers(dest="action", required=True)
    listing = scans.add_parser("list", help="list scans, newest first")
    listing.add_argument("--host")
    listing.add_argument("--status", choices=[s.value for s in ScanStatus])
    listing.add_argument("--json", action="store_true")

    results = commands.add_parser("results", help="rule results of a scan")
    results.add_argument("scan_id", metavar="SCAN_ID",
                         help="full UUID or its first 8 characters (the id of the scan's job works too)")
    results.add_argument("--result", choices=RESULT_VALUES)
    results.add_argument("--sort", choices=["severity", "result", "rule", "time"], default="severity",
                         help="time: the slowest rules first")
    results.add_argument("--by", metavar="SYSTEM", type=reference_system,
                         help="by control of a reference system instead: each control's status and its rules "
                              f"({SYSTEMS_HELP})")
    form = results.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true")
    form.add_argument("--csv", action="store_true")


async def scan(workspace: Workspace, args) -> int:
    from core.jobs import queue, submit
    from core.views.exceptions import apply_to_scans
    from core.views.serialize import job_to_dict, scan_to_dict
    from tui.cli.progress import wait_here

    if args.max_concurrent is not None:
        workspace.configure(max_concurrent=max(1, args.max_concurrent))
    wanted = await queue.scan_requests(workspace, args.names, args.profile, tailoring_file=args.tailoring,
                                       timeout=args.timeout, priority=args.priority)
    if args.enqueue and (args.junit or args.sarif or args.fail_on_new or args.fail_under is not None):
        raise InvalidInput("--junit, --sarif, --fail-on-new and --fail-under need the results: leave out --enqueue")
    if args.enqueue:
        jobs = await submit.scans(workspace, wanted, submit.WORKERS)
        if args.json:
            print_json([job_to_dict(j) for j in jobs])
        else:
            for job in jobs:
                say(f"{job.id} {job.host_name}: pending (a worker runs it: compliance-tui worker)")
        return 0
    jobs = await submit.scans(workspace, wanted, wait_here(args.json))
    scans = await apply_to_scans(workspace.store, [await workspace.store.get_scan(j.scan_id) for j in jobs if j.scan_id])
    new = await ci_gates(workspace, scans, args)
    if args.json:
        print_json([scan_to_dict(s) for s in scans])
    else:
        print_table(
            ["SCAN", "HOST", "STATUS", "SCORE", "PASSED", "FAILED", "DURATION"],
            [[s.id, s.host_name, s.status.value, s.score, s.counts.get("pass", 0),
              s.counts.get("fail", 0), s.duration_s] for s in scans],
        )
        for s in scans:
            for message in (s.error_message, s.notice):
                if message:
                    say(f"{s.short_id} {s.host_name}: {message}", err=True)
    if any(s.status is not ScanStatus.COMPLETED for s in scans):
        return EXIT_ERROR
    if args.fail_under is not None and any((s.score or 0) < args.fail_under for s in scans):
        return EXIT_BELOW_THRESHOLD
    if args.fail_on_new and new:
        return EXIT_BELOW_THRESHOLD
    return 0


async def ci_gates(workspace: Workspace, scans, args) -> int:
    """Write the JUnit and SARIF files; with --fail-on-new, say which rules newly fail. Returns
    how many newly failing rules were found."""
    from core.results import exports, gates

    if args.junit or args.sarif:
        items = await gates.gate_scans(workspace.store, scans)
        if args.junit:
            exports.write_atomically(args.junit, gates.junit_xml(items).decode("utf-8"))
            say(f"JUnit XML written to {args.junit}", err=True)
        if args.sarif:
            exports.write_atomically(args.sarif, gates.sarif_json(items))
            say(f"SARIF written to {args.sarif}", err=True)
    found = 0
    if args.fail_on_new:
        for scan in scans:
            previous, failing = await gates.new_failures(workspace.store, scan)
            if previous is None and scan.status is ScanStatus.COMPLETED:
                say(f"{scan.short_id} {scan.host_name}: no previous completed scan of this profile; "
                    "every failure is old news to --fail-on-new", err=True)
            if previous is None:
                continue
            for result in failing:
                say(f"{scan.short_id} {scan.host_name}: newly failing since {previous.short_id}: "
                    f"{result.rule_id} ({result.severity}, {result.result})", err=True)
            found += len(failing)
    return found


async def scans_list(workspace: Workspace, args) -> int:
    from core.views.exceptions import apply_to_scans
    from core.views.serialize import scan_to_dict

    if args.host:
        await workspace.store.require_host(args.host)
    scans = await apply_to_scans(workspace.store, await workspace.store.find_scans(host=args.host, status=args.status))
    if args.json:
        print_json([scan_to_dict(s) for s in scans])
        return 0
    print_table(
        ["SCAN", "HOST", "PROFILE", "STATUS", "SCORE", "PASSED", "FAILED", "DURATION", "CREATED"],
        [[s.short_id, s.host_name, s.profile, s.status.value, s.score, s.counts.get("pass"),
          s.counts.get("fail"), s.duration_s, s.created[:19].replace("T", " ")] for s in scans],
    )
    return 0


async def results(workspace: Workspace, args) -> int:
    from core.jobs import queue
    from core.results import exports
    from core.views.exceptions import results_with_exceptions

    found = await queue.scan_named(workspace.store, args.scan_id)
    if args.by:
        return await _by_control(workspace, args, found.id)
    found_results = await results_with_exceptions(workspace.store, found, args.result, order=args.sort)
    if args.json or args.csv:
        fmt = "json" if args.json else "csv"
        to_stdout(lambda out: exports.write_results(found_results, fmt, out))
    else:
        print_table(["RESULT", "SEVERITY", "SECONDS", "RULE", "TITLE"],
                    [[r.result + (" (excepted)" if r.exception else ""), r.severity, r.seconds, r.rule_id, r.title]
                     for r in found_results])
    return 0


async def _by_control(workspace: Workspace, args, scan_id: str) -> int:
    from core.results import control_exports

    if args.result:
        raise InvalidInput("--result and --by do not go together: a control's status needs all its rules")
    scan, view = await control_exports.scan_view(workspace, scan_id, args.by)
    if args.json or args.csv:
        fmt = "json" if args.json else "csv"
        to_stdout(lambda out: control_exports.write_view(scan, view, fmt, out))
        return 0
    if view.unavailable:
        raise InvalidInput(f"scan {scan.short_id}: {view.summary}")
    print_table(["CONTROL", "STATUS", "PASS", "FAIL", "OTHER", "RULES"],
                [[c.ref, c.status, c.passed, c.failed, c.other,
                  " ".join(r.rule_id.removeprefix(RULE_PREFIX) for r in c.rules)] for c in view.controls])
    say(f"{view.summary}; {len(view.unmapped)} rule(s) of the scan cite none", err=True)
    return 0


COMMANDS = {
    ("scan", None): scan,
    ("scans", "list"): scans_list,
    ("results", None): results,
}
