"""`compliance-tui import`: results files produced elsewhere become scans."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain.errors import OperatorError
from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.workspace import Workspace


def register(commands) -> None:
    command = commands.add_parser(
        "import", help="import ARF or XCCDF results files (plain, .gz or .bz2) as scans of a host")
    command.add_argument("files", nargs="+", metavar="FILE", type=Path)
    command.add_argument("--host", required=True, metavar="NAME", help="the host the results are of")
    command.add_argument("--create-host", action="store_true", help="add the host when it is not known")
    command.add_argument("--yes", action="store_true",
                         help="import even when the file names another target")
    command.add_argument("--json", action="store_true")


async def import_results(workspace: Workspace, args) -> int:
    from core.results import importer
    from core.views import serialize

    try:
        scans = await importer.import_files(workspace, args.files, args.host, args.create_host, args.yes)
    except importer.TargetMismatch as exc:
        if args.yes or not sys.stdin.isatty():
            raise
        if input(f"{exc}\nImport anyway? [y/N] ").strip().lower() not in ("y", "yes"):
            raise OperatorError("nothing imported") from None
        scans = await importer.import_files(workspace, args.files, args.host, args.create_host, True)
    if args.json:
        print_json([serialize.scan_to_dict(s) for s in scans])
        return 0
    print_table(["SCAN", "HOST", "PROFILE", "SCORE", "PASSED", "FAILED", "FILE"],
                [[s.id, s.host_name, s.profile, s.score, s.counts.get("pass", 0),
                  s.counts.get("fail", 0), s.source_file] for s in scans])
    for s in scans:
        if s.notice:
            say(f"{s.short_id}: {s.notice}", err=True)
    return 0


COMMANDS = {("import", None): import_results}
