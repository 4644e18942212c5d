"""CLI commands `report` and `export`: HTML reports and CSV/JSON exports, headless-friendly."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, TextIO

from core.domain.errors import InvalidInput
from core.domain.models import RESULT_VALUES, ScanStatus
from core.results.formats import FORMATS
from tui.cli.output import say

# --by's main systems, for --help without loading the table (core/results/references.py has them all)
SYSTEMS_HELP = "nist-800-53, cis-controls, pcidss, pcidss4, stigid, iso27001, cce, ...; or the content's own names"


def register(commands) -> None:
    report = commands.add_parser(
        "report", help="HTML report of a completed scan",
        description="Write an HTML report of a completed scan; print its path and how to copy it.",
        usage="%(prog)s SCAN_ID [-o FILE] [--oscap] [--open] [--by SYSTEM]",  # one line at 80 columns
    )
    report.add_argument("scan_id", metavar="SCAN_ID",
                        help="full UUID or its first 8 characters (the id of the scan's job works too)")
    report.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="where to write it (default: DATA_DIR/reports/)")
    report.add_argument("--oscap", action="store_true",
                        help="OpenSCAP's own report, rendered by the local oscap from the stored results")
    report.add_argument("--open", action="store_true", help="also open it in a browser when one can show here")
    report.add_argument("--by", metavar="SYSTEM", type=reference_system,
                        help="add a section of the results by control of this reference system "
                             f"({SYSTEMS_HELP})")

    export = commands.add_parser("export", help="export scans, rule results (CSV, JSON), OSCAL or STIG checklists")
    targets = export.add_subparsers(dest="action", required=True)
    scans = targets.add_parser("scans", help="the scan list, newest first")
    scans.add_argument("--host")
    scans.add_argument("--status", choices=[s.value for s in ScanStatus])
    results = targets.add_parser("results", help="the rule results of one scan")
    results.add_argument("scan_id", metavar="SCAN_ID",
                         help="full UUID or its first 8 characters (the id of the scan's job works too)")
    results.add_argument("--result", choices=RESULT_VALUES)
    results.add_argument("--by", metavar="SYSTEM", type=reference_system,
                         help="the control view instead: one row per control and rule of this reference "
                              f"system ({SYSTEMS_HELP})")
    for sub in (scans, results):
        sub.add_argument("--format", required=True, choices=FORMATS)
        sub.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    oscal = targets.add_parser(
        "oscal", help="OSCAL assessment results (JSON) of a completed scan",
        description="Write the scan as an OSCAL 1.1.2 assessment-results document: the scan as a result, "
                    "one observation per rule result, findings per control of a reference system.")
    checklists = [targets.add_parser(kind, help=f"a STIG checklist ({title}) of a STIG-profile scan")
                  for kind, title in (("ckl", "CKL, STIG Viewer 2"), ("cklb", "CKLB, STIG Viewer 3"))]
    for sub in (oscal, *checklists):
        sub.add_argument("scan_id", metavar="SCAN_ID",
                         help="full UUID or its first 8 characters (the id of the scan's job works too)")
        sub.add_argument("-o", "--output", type=Path, metavar="FILE", help="where to write it (default: "
                         "DATA_DIR/exports/)")
    oscal.add_argument("--by", metavar="SYSTEM", type=reference_system, default="nist-800-53",
                       help="the reference system of the findings (default: nist-800-53)")


def reference_system(name: str) -> str:
    """--by: our name or the content's own (nist, cis-csc), as our name."""
    from core.results.references import system_named

    try:
        return system_named(name).name
    except InvalidInput as exc:  # a usage error that says which systems there are
        raise argparse.ArgumentTypeError(str(exc)) from None


async def report(workspace, args) -> int:
    from core.jobs import queue
    from core.results import report as reports
    from core.results.handover import copy_hint, open_in_browser
    from core.results.oscap_report import save_oscap_report

    if args.oscap and args.by:
        raise InvalidInput("--by adds a section to this program's report; OpenSCAP's own (--oscap) has none")
    scan_id = (await queue.scan_named(workspace.store, args.scan_id)).id
    if args.oscap:
        path = await save_oscap_report(workspace, scan_id, args.output)
    else:
        path = await reports.save_report(workspace, scan_id, args.output, by=args.by)
    say(path)
    if args.open and open_in_browser(path):
        say("opened in your browser", err=True)
    elif args.open:
        say(f"no browser found to open it (set $BROWSER, or use a desktop session): the report is {path}; "
            f"copy it to your machine: {copy_hint(path)}", err=True)
    else:
        say(f"copy it to your machine: {copy_hint(path)}", err=True)
    return 0


async def export_scans(workspace, args) -> int:
    from core.results import exports

    if args.output:
        say(await exports.export_scans_to_file(workspace, args.format, args.host, args.status, args.output))
    else:
        scans = await exports.visible_scans(workspace, args.host, args.status)
        to_stdout(lambda out: exports.write_scans(scans, args.format, out))
    return 0


async def export_results(workspace, args) -> int:
    from core.jobs import queue
    from core.results import control_exports, exports

    args.scan_id = (await queue.scan_named(workspace.store, args.scan_id)).id
    if args.by:
        if args.result:
            raise InvalidInput("--result and --by do not go together: a control's status needs all its rules")
        if args.output:
            say(await control_exports.export_view_to_file(workspace, args.scan_id, args.by, args.format, args.output))
        else:
            scan, view = await control_exports.scan_view(workspace, args.scan_id, args.by)
            to_stdout(lambda out: control_exports.write_view(scan, view, args.format, out))
        return 0
    if args.output:
        say(await exports.export_results_to_file(workspace, args.scan_id, args.format,
                                                   args.result, args.output))
    else:
        _, rows = await exports.scan_results(workspace, args.scan_id, args.result)
        to_stdout(lambda out: exports.write_results(rows, args.format, out))
    return 0


async def export_oscal(workspace, args) -> int:
    from core.jobs import queue
    from core.results import control_exports

    scan = await queue.scan_named(workspace.store, args.scan_id)
    say(await control_exports.export_oscal(workspace, scan.id, args.by, args.output))
    return 0


async def export_checklist(workspace, args) -> int:
    from core.jobs import queue
    from core.results import control_exports

    scan = await queue.scan_named(workspace.store, args.scan_id)
    say(await control_exports.export_checklist(workspace, scan.id, args.action, args.output))
    return 0


def to_stdout(write: Callable[[TextIO], None]) -> None:
    """Write to stdout (tui.cli.main treats a reader that stops early as no error)."""
    write(sys.stdout)
    sys.stdout.flush()


COMMANDS = {
    ("report", None): report,
    ("export", "scans"): export_scans,
    ("export", "results"): export_results,
    ("export", "oscal"): export_oscal,
    ("export", "ckl"): export_checklist,
    ("export", "cklb"): export_checklist,
}
