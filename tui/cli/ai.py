"""`compliance-tui explain` and `compliance-tui ai test|usage|set-key|delete-key`.

The explanation streams to stdout as Markdown (neutralised: it is the model's text); what it
cost and whether it came from the cache goes to stderr, so `explain ... > rule.md` keeps only
the text. The API key is read from stdin, never from the command line. core.ai.explain loads
the openai package (0.4 s): imported only by these commands.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from core.domain.text import neutralise
from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.workspace import Workspace


def register(commands) -> None:
    ask = commands.add_parser("explain", help="explain a rule's result with the configured LLM (streams Markdown)")
    ask.add_argument("scan_id", metavar="SCAN_ID", help="full UUID or its first 8 characters")
    ask.add_argument("rule_id", metavar="RULE_ID", help="xccdf rule id, with or without its SSG prefix")
    ask.add_argument("--regenerate", action="store_true", help="ask the LLM anew instead of using the cache")
    ask.add_argument("--json", action="store_true", help="one JSON object at the end instead of streaming")

    ai = commands.add_parser("ai", help="the LLM behind explain: test it, usage, the API key")
    actions = ai.add_subparsers(dest="action", required=True)
    test = actions.add_parser("test", help="one small request: the reply, the server's models, the round trip")
    test.add_argument("--json", action="store_true")
    usage = actions.add_parser("usage", help="requests and tokens per day and model")
    usage.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    usage.add_argument("--json", action="store_true")
    actions.add_parser("set-key", help="store the API key in the OS keyring (read from stdin, never argv)")
    actions.add_parser("delete-key", help="remove the API key from the OS keyring")


async def explain_rule(workspace: Workspace, args) -> int:
    import asyncio

    from core.ai.explain import cut_note, explain, find_result

    store, ai = workspace.store, workspace.settings.ai
    scan = await store.get_scan(args.scan_id)
    result = await find_result(store, scan, args.rule_id)
    printed = []

    def show(text: str) -> None:
        if not args.json:
            sys.stdout.write(neutralise(text))
            sys.stdout.flush()
            printed.append(text)

    async def wait(seconds: float) -> None:  # a 429: say so while honouring Retry-After
        say(f"(rate limited (429): asking again in {seconds:.0f} s, as the server asks)", err=True)
        await asyncio.sleep(seconds)

    try:
        outcome = await explain(store, ai, scan, result, show, regenerate=args.regenerate, sleep=wait)
    finally:
        if printed and not printed[-1].endswith("\n"):
            sys.stdout.write("\n")  # a cut stream: the error line starts on its own line
    found = outcome.explanation
    if args.json:
        print_json({
            "scan_id": scan.id, "rule_id": result.rule_id, "title": result.title,
            "severity": result.severity, "result": result.result, "model": found.model,
            "cached": outcome.cached, "created": found.created_at, "input_tokens": found.input_tokens,
            "output_tokens": found.output_tokens, "estimated": outcome.estimated, "text": found.text,
            "stored_chars": found.stored_chars or len(found.text),
        })
        return 0
    if outcome.cached:
        say(found.text.rstrip("\n"))
        if cut_note(found):
            say(f"({cut_note(found)}: --regenerate)", err=True)
        say(f"(cached {(found.created_at or '')[:16].replace('T', ' ')} UTC, model {found.model}; "
            "--regenerate asks anew)", err=True)
    else:
        if outcome.truncated:
            say("\n_(The model stopped at its length limit; the answer may be cut short.)_")
        counted = "counted from the stream" if outcome.estimated else "as the server reported"
        say(f"(model {found.model}, {outcome.seconds:.1f} s, {found.input_tokens} in / "
            f"{found.output_tokens} out tokens, {counted})", err=True)
    return 0


async def ai_test(workspace: Workspace, args) -> int:
    from core.ai import explain as service

    report = await service.check(workspace.store, workspace.settings.ai)
    if args.json:
        print_json({"url": report.url, "model": report.model, "key": report.key,
                    "key_source": report.key_source, "reply": report.reply,
                    "seconds": round(report.seconds, 3), "models": report.models,
                    "models_error": report.models_error})
        return 0
    for line in report.lines():
        say(line)
    return 0


async def ai_usage(workspace: Workspace, args) -> int:
    since = (datetime.now(timezone.utc) - timedelta(days=max(0, args.days - 1))).strftime("%Y-%m-%d")
    rows = await workspace.store.ai_usage(since=since)
    if args.json:
        print_json([{"day": u.day, "model": u.model, "requests": u.requests, "input_tokens": u.input_tokens,
                     "output_tokens": u.output_tokens, "estimated_requests": u.estimated} for u in rows])
        return 0
    print_table(["DAY", "MODEL", "REQUESTS", "INPUT", "OUTPUT", "ESTIMATED"],
                [[u.day, u.model, u.requests, u.input_tokens, u.output_tokens, u.estimated] for u in rows])
    return 0


async def set_key(workspace: Workspace, args) -> int:
    from core.ai import configure, secrets

    if sys.stdin.isatty():
        value = getpass.getpass("API key (not shown): ")
    else:
        value = sys.stdin.readline()
    backend = await configure.set_key(workspace, value)
    say(f"stored in the OS keyring ({backend}); ${secrets.ENV_KEY}, when set, is used instead")
    return 0


async def delete_key(workspace: Workspace, args) -> int:
    from core.ai import configure

    removed = await configure.delete_key(workspace)
    say("removed from the OS keyring" if removed else "no key was stored in the OS keyring")
    return 0


COMMANDS = {
    ("explain", None): explain_rule,
    ("ai", "test"): ai_test,
    ("ai", "usage"): ai_usage,
    ("ai", "set-key"): set_key,
    ("ai", "delete-key"): delete_key,
}
