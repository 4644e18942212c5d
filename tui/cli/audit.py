"""`compliance-tui audit`: the action log (who added a host, trusted a host key, started a
scan, applied a fix, excepted a rule, changed a schedule or a setting) and its chain's check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.workspace import Workspace

EXIT_BROKEN = 1


def register(commands) -> None:
    audit = commands.add_parser("audit", help="the action log: who did what, when; and its check")
    actions = audit.add_subparsers(dest="action", required=True)
    log = actions.add_parser("log", help="the action log, newest first")
    log.add_argument("--since", metavar="WHEN", help="from a span back (30m, 12h, 7d, 2w), a day or a time on")
    log.add_argument("--host", metavar="NAME", help="only entries about this host")
    log.add_argument("--action", dest="action_prefix", metavar="PREFIX", help="only these actions: host, hostkey, fix.applied, ...")
    log.add_argument("--limit", type=int, metavar="N", help="at most N entries (the newest)")
    log.add_argument("--json", action="store_true")
    verify = actions.add_parser("verify", help="check the chain: no entry edited, deleted or cut off the end")
    verify.add_argument("--json", action="store_true")


async def audit_log(workspace: Workspace, args) -> int:
    from core.domain.audit import parse_since
    from core.domain.errors import InvalidInput
    from core.domain.text import one_line

    if args.limit is not None and args.limit < 1:
        raise InvalidInput("--limit must be at least 1")
    since = parse_since(args.since) if args.since else None
    found = await workspace.store.audit_entries(since=since, subject=args.host, action=args.action_prefix,
                                                limit=args.limit)
    if args.json:
        print_json([e.as_dict() for e in found])
        return 0
    if not found:
        say("no entries" + (" match" if since or args.host or args.action_prefix else " yet"))
        return 0
    print_table(["SEQ", "AT (UTC)", "ACTOR", "ACTION", "SUBJECT", "DETAILS"],
                [[e.seq, e.at[:19].replace("T", " "), e.actor, e.action, e.subject, one_line(e.details, 120)]
                 for e in found])
    return 0


async def audit_verify(workspace: Workspace, args) -> int:
    from core.audit.verify import verify

    verdict = await verify(workspace.store)
    if args.json:
        print_json(verdict.as_dict())
    else:
        for problem in verdict.problems:
            say(problem)
        if verdict.intact:
            say(f"intact: {verdict.entries} entries; head seq {verdict.last_seq}, hash {verdict.last_hash}")
    if not verdict.intact:
        say(f"audit verify: the action log is NOT intact: {len(verdict.problems)} problem(s)", err=True)
        return EXIT_BROKEN
    return 0


COMMANDS = {
    ("audit", "log"): audit_log,
    ("audit", "verify"): audit_verify,
}
