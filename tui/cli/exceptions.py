"""`compliance-tui exceptions`: failed rules accepted for a business reason, until a date;
and `compliance-tui diff`: two scans of a host compared."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.workspace import Workspace


def register(commands) -> None:
    exceptions = commands.add_parser("exceptions", help="documented exceptions: accepted failed rules")
    actions = exceptions.add_subparsers(dest="action", required=True)
    for name, text in (("request", "ask to accept a failed rule for a host, a tag or all hosts (pending until "
                                   "someone else approves it)"),
                       ("add", "the same as request; with [exceptions] two_person = false, approved at once")):
        add = actions.add_parser(name, help=text)
        scope = add.add_mutually_exclusive_group(required=True)
        scope.add_argument("--host", metavar="NAME")
        scope.add_argument("--tag", metavar="TAG")
        scope.add_argument("--all", action="store_true", dest="all_hosts")
        add.add_argument("--rule", required=True, metavar="RULE_ID", help="the XCCDF rule id (or its part after _rule_)")
        add.add_argument("--reason", required=True, metavar="TEXT", help="the business justification")
        add.add_argument("--expires", required=True, metavar="YYYY-MM-DD", help="holds through this day (UTC)")
        add.add_argument("--json", action="store_true")
    listing = actions.add_parser("list", help="every exception with its status; expired ones marked")
    listing.add_argument("--pending", action="store_true", help="only the requests waiting for a decision")
    listing.add_argument("--json", action="store_true")
    for name, text in (("approve", "approve a pending exception (someone other than its requester)"),
                       ("reject", "reject a pending exception (someone other than its requester)"),
                       ("revoke", "withdraw an approved exception: its rule counts as failing again")):
        decide = actions.add_parser(name, help=text)
        decide.add_argument("exception_id", metavar="ID")
        decide.add_argument("--note", metavar="TEXT", help="why (kept with the decision)")
        decide.add_argument("--json", action="store_true")
    actions.add_parser("remove", help="delete an exception").add_argument("exception_id", metavar="ID")
    export = actions.add_parser("export", help="write exceptions as an XCCDF tailoring that switches the rules off")
    export.add_argument("exception_ids", nargs="+", metavar="ID")
    export.add_argument("--profile", metavar="XCCDF_ID", help="the profile the tailoring extends "
                        "(default: the one the newest scan of those rules ran)")
    export.add_argument("-o", "--output", type=Path, metavar="FILE")

    diff = commands.add_parser("diff", help="compare two scans of a host (or one with its previous)")
    diff.add_argument("scans", nargs="+", metavar="SCAN", help="two scan ids, or one: compared with the "
                      "previous completed scan of the same host and profile")
    diff.add_argument("--json", action="store_true")


async def exceptions_add(workspace: Workspace, args) -> int:
    from core.policy import exceptions as service

    add = service.request_exception if args.action == "request" else service.add_exception
    exc = await add(workspace, rule=args.rule, reason=args.reason, expires=args.expires,
                    host=args.host, tag=args.tag, all_hosts=args.all_hosts)
    if args.json:
        _print_one(exc)
    elif exc.status == "approved":
        say(f"exception {exc.short_id}: {exc.rule_id} accepted for {exc.scope_text()} until {exc.expires} "
            f"by {exc.accepted_by}; scores and reports leave it out until then")
    else:
        say(f"exception {exc.short_id} requested by {exc.requested_by}: {exc.rule_id} for {exc.scope_text()} "
            f"until {exc.expires}; pending: it changes no score until someone else approves it "
            f"(compliance-tui exceptions approve {exc.short_id})")
    return 0


def _print_one(exc) -> None:
    from core.views.exceptions import today
    from core.views.serialize import exception_to_dict

    print_json(exception_to_dict(exc, today()))


async def exceptions_list(workspace: Workspace, args) -> int:
    from core.domain.policy import SSG_RULE_PREFIX
    from core.policy import exceptions as service
    from core.views.exceptions import today
    from core.views.serialize import exception_to_dict

    found = await service.list_exceptions(workspace, "pending" if args.pending else None)
    day = today()
    if args.json:
        print_json([exception_to_dict(e, day) for e in found])
        return 0
    print_table(["ID", "SCOPE", "RULE", "UNTIL", "STATE", "REQUESTED BY", "DECIDED BY", "REASON"],
                [[e.short_id, e.scope_text(), e.rule_id.removeprefix(SSG_RULE_PREFIX), e.expires, e.state(day),
                  e.requested_by, e.revoked_by or e.decided_by, e.reason] for e in found])
    return 0


async def exceptions_decide(workspace: Workspace, args) -> int:
    from core.policy import exceptions as service

    act = {"approve": service.approve_exception, "reject": service.reject_exception,
           "revoke": service.revoke_exception}[args.action]
    exc = await act(workspace, args.exception_id, args.note)
    if args.json:
        _print_one(exc)
        return 0
    effect = {"approved": f"scores and reports leave it out until {exc.expires}",
              "rejected": "it changes no score", "revoked": "its rule counts as failing again"}[exc.status]
    say(f"exception {exc.short_id} ({exc.rule_id} for {exc.scope_text()}) {exc.status} by "
        f"{exc.revoked_by or exc.decided_by}; {effect}")
    return 0


async def exceptions_remove(workspace: Workspace, args) -> int:
    from core.policy import exceptions as service

    exc = await service.remove_exception(workspace, args.exception_id)
    say(f"removed exception {exc.short_id} ({exc.rule_id} for {exc.scope_text()}); it counts again")
    return 0


async def exceptions_export(workspace: Workspace, args) -> int:
    from core.policy import exceptions as service
    from core.results.handover import copy_hint

    path = await service.export_tailoring(workspace, args.exception_ids, args.output, args.profile)
    say(str(path))
    say(f"copy it to your machine: {copy_hint(path)}", err=True)
    return 0


async def diff(workspace: Workspace, args) -> int:
    from core.views.compare import CATEGORIES, LABELS, compare_scans, differences, previous_scan
    from core.views.serialize import comparison_to_dict

    if len(args.scans) > 2:
        say("error: give two scans, or one to compare with its previous", err=True)
        return 2
    if len(args.scans) == 1:
        newer = await workspace.store.get_scan(args.scans[0])
        older = await previous_scan(workspace.store, newer)
        comparison = await compare_scans(workspace.store, older.id, newer.id)
    else:
        comparison = await compare_scans(workspace.store, *args.scans)
    if args.json:
        print_json(comparison_to_dict(comparison))
        return 0
    older, newer = comparison.older, comparison.newer
    say(f"{newer.host_name}: {older.short_id} ({older.created[:16].replace('T', ' ')}, score "
        f"{older.score}) -> {newer.short_id} ({newer.created[:16].replace('T', ' ')}, score {newer.score})")
    for difference in differences(comparison):
        say(difference)
    for job in comparison.hardening:
        say(f"hardening job {job.short_id} ran in between ({job.status.value})")
    say(", ".join(f"{comparison.count(c)} {LABELS[c]}" for c in CATEGORIES))
    rows = [[LABELS[c], ch.severity, ch.rule_id.removeprefix("xccdf_org.ssgproject.content_rule_"),
             ch.before or "-", (ch.after or "-") + (" (excepted)" if ch.excepted else "")]
            for c in CATEGORIES if c != "still_failing" for ch in comparison.changes[c]]
    if rows:
        print_table(["CHANGE", "SEVERITY", "RULE", "BEFORE", "AFTER"], rows)
    return 0


COMMANDS = {
    ("exceptions", "request"): exceptions_add,
    ("exceptions", "add"): exceptions_add,
    ("exceptions", "list"): exceptions_list,
    ("exceptions", "approve"): exceptions_decide,
    ("exceptions", "reject"): exceptions_decide,
    ("exceptions", "revoke"): exceptions_decide,
    ("exceptions", "remove"): exceptions_remove,
    ("exceptions", "export"): exceptions_export,
    ("diff", None): diff,
}
