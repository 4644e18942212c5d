"""`compliance-tui evidence du` and `evidence prune`: what the kept ARF evidence weighs, and
removing that of old scans (their results and scores stay)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from tui.cli.output import print_json, say

if TYPE_CHECKING:
    from core.workspace import Workspace


def register(commands) -> None:
    evidence = commands.add_parser("evidence", help="the ARF evidence kept for each scan").add_subparsers(
        dest="action", required=True)
    du = evidence.add_parser("du", help="what the evidence weighs")
    du.add_argument("--json", action="store_true")
    prune = evidence.add_parser(
        "prune", help="remove the evidence of old scans (results and scores stay)",
        description="Remove the ARF evidence of scans older than --keep-days and beyond the --keep-last "
                    "newest of their host and profile. The newest scan of a host and profile always keeps "
                    "its evidence; results, scores and reports stay (report --oscap needs the evidence).")
    prune.add_argument("--keep-days", type=int, metavar="N", help="keep the evidence of scans younger than N days")
    prune.add_argument("--keep-last", type=int, metavar="N", help="keep the N newest of each host and profile")
    prune.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    prune.add_argument("--json", action="store_true")


def _mb(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


async def evidence_du(workspace: Workspace, args) -> int:
    from core.results import retention

    found = await retention.usage(workspace)
    if args.json:
        print_json(asdict(found) | {"total_bytes": found.total_bytes})
        return 0
    say(f"scans with evidence  {found.scans:>8,}  {_mb(found.scan_bytes):>12}")
    say(f"datastream blocks    {found.blocks:>8,}  {_mb(found.block_bytes):>12}  (each kept once, shared)")
    if found.leftover:
        say(f"left over            {found.leftover:>8,}  {_mb(found.leftover_bytes):>12}  (prune removes them)")
    say(f"total                {'':>8}  {_mb(found.total_bytes):>12}")
    return 0


async def evidence_prune(workspace: Workspace, args) -> int:
    """The evidence here, and the /etc archives hardening jobs left on their targets once due."""
    from core.jobs.archives import prune_archives  # SSH: only this command reaches the targets
    from core.results import retention

    done = await retention.prune(workspace, args.keep_days, args.keep_last, dry_run=args.dry_run)
    archives = await prune_archives(workspace, dry_run=args.dry_run)
    if args.json:
        print_json(asdict(done) | {"archives": asdict(archives)})
        return 0
    verb = "would remove" if done.dry_run else "removed"
    say(f"{verb} the evidence of {done.scans:,} scan(s) and {done.blocks:,} datastream block(s): {_mb(done.bytes)}")
    if archives.removed or archives.waiting or archives.unreachable:
        say(f"{verb} {len(archives.removed)} /etc archive(s) of hardening jobs on their hosts"
            + (f"; {len(archives.waiting)} still watched by a dead man's switch" if archives.waiting else ""))
    for line in archives.unreachable:
        say(f"warning: archives not removed on {line}", err=True)
    return 0


COMMANDS = {
    ("evidence", "du"): evidence_du,
    ("evidence", "prune"): evidence_prune,
}
