"""CLI commands `report` and `export`: HTML reports and CSV/JSON exports, headless-friendly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, TextIO

from core.domain.models import RESULT_VALUES, ScanStatus
from core.results.formats import FORMATS
from tui.cli.output import say


def register(commands) -> None:
    report = commands.add_parser(
        "report", help="HTML report of a completed scan",
        description="Write an HTML report of a completed scan; print its path and how to copy it.",
    )
    report.add_argument("scan_id", metavar="SCAN_ID",
                        help="full UUID or its first 8 characters (the id of the scan's job works too)")
    report.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="where to write it (default: DATA_DIR/reports/)")
    report.add_argument("--oscap", action="store_true",
                        help="OpenSCAP's own report, rendered by the local oscap from the stored results")
    report.add_argument("--open", action="store_true", help="also open it in a browser when one can show here")

    export = commands.add_parser("export", help="export scans or rule results as CSV or JSON")
    targets = export.add_subparsers(dest="action", required=True)
    scans = targets.add_parser("scans", help="the scan list, newest first")
    scans.add_argument("--host")
    scans.add_argument("--status", choices=[s.value for s in ScanStatus])
    results = targets.add_parser("results", help="the rule results of one scan")
    results.add_argument("scan_id", metavar="SCAN_ID",
                         help="full UUID or its first 8 characters (the id of the scan's job works too)")
    results.add_argument("--result", choices=RESULT_VALUES)
    for sub in (scans, results):
        sub.add_argument("--format", required=True, choices=FORMATS)
        sub.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")


async def report(workspace, args) -> int:
    from core.jobs import queue
    from core.results import report as reports
    from core.results.handover import copy_hint, open_in_browser
    from core.results.oscap_report import save_oscap_report

    save = save_oscap_report if args.oscap else reports.save_report
    path = await save(workspace, (await queue.scan_named(workspace.store, args.scan_id)).id, args.output)
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
    from core.results import exports

    args.scan_id = (await queue.scan_named(workspace.store, args.scan_id)).id
    if args.output:
        say(await exports.export_results_to_file(workspace, args.scan_id, args.format,
                                                   args.result, args.output))
    else:
        _, rows = await exports.scan_results(workspace, args.scan_id, args.result)
        to_stdout(lambda out: exports.write_results(rows, args.format, out))
    return 0


def to_stdout(write: Callable[[TextIO], None]) -> None:
    """Write to stdout (tui.cli.main treats a reader that stops early as no error)."""
    write(sys.stdout)
    sys.stdout.flush()


COMMANDS = {
    ("report", None): report,
    ("export", "scans"): export_scans,
    ("export", "results"): export_results,
}
