"""`compliance-tui notify add|remove|list|test`: the drift alerts' targets (core/notify/).

A target's URL holds its secret, so it is read from stdin (never the command line, which
every user of the machine can see) and kept in the OS keyring; a worker without one reads
$COMPLIANCE_TUI_NOTIFY_<NAME>. Only masked URLs are ever shown.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.domain.settings import Settings
    from core.workspace import Workspace


def register(commands) -> None:
    notify = commands.add_parser("notify", help="drift alerts: where schedules' digests go (Apprise URLs)")
    actions = notify.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="name a target; its URL is read from stdin and kept in the OS keyring")
    add.add_argument("name", metavar="NAME")
    actions.add_parser("remove", help="forget a target's URL in the OS keyring").add_argument("name", metavar="NAME")
    actions.add_parser("list", help="the targets named by [notify] and by schedules, masked").add_argument(
        "--json", action="store_true")
    test = actions.add_parser("test", help="send a test message to a named target, or to a URL read from stdin (-)")
    test.add_argument("name", metavar="NAME|-")


def _read_url(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline(4096)


async def notify_add(data_dir: Path, settings: Settings, args) -> int:
    import asyncio

    from core.domain.notify_settings import check_target_name
    from core.notify import targets

    check_target_name(args.name)
    url = targets.check_url(_read_url(f"URL of {args.name} (not shown): "))
    backend = await asyncio.to_thread(targets.store, args.name, url)
    say(f"target {args.name}: {targets.masked(url)} stored in the OS keyring ({backend}); "
        f"${targets.env_name(args.name)}, when set, is used instead")
    if args.name not in settings.notify.targets:
        say(f"name it in a schedule (schedules add|edit ... --notify {args.name}) or in the config file's "
            f"[notify] targets to send it digests", err=True)
    return 0


async def notify_remove(data_dir: Path, settings: Settings, args) -> int:
    import asyncio

    from core.domain.notify_settings import check_target_name
    from core.notify import targets

    check_target_name(args.name)
    removed = await asyncio.to_thread(targets.delete, args.name)
    say(f"target {args.name}: " + ("removed from the OS keyring" if removed else "no URL was stored in the OS keyring"))
    return 0


async def notify_list(workspace: Workspace, args) -> int:
    import asyncio

    from core.notify import targets

    used: dict[str, list[str]] = {name: ["[notify]"] for name in workspace.settings.notify.targets}
    for schedule in await workspace.store.find_schedules():
        for name in schedule.notify:
            used.setdefault(name, []).append(f"schedule {schedule.short_id}")
    for name in targets.names_in_environment():
        used.setdefault(name, [])
    found = await asyncio.to_thread(lambda: [targets.find(n) for n in sorted(used)])
    if args.json:
        print_json([{"name": t.name, "url": t.masked(), "source": t.source, "used_by": used[t.name]} for t in found])
        return 0
    if not found:
        say("no notification targets: `compliance-tui notify add NAME` (the URL on stdin), then name it in "
            "a schedule (--notify NAME) or in the config file's [notify] targets")
        return 0
    print_table(["NAME", "URL", "FROM", "USED BY"],
                [[t.name, t.masked(), t.source, ", ".join(used[t.name]) or "-"] for t in found])
    return 0


async def notify_test(data_dir: Path, settings: Settings, args) -> int:
    import asyncio

    from core.domain.errors import OperatorError
    from core.domain.notify_settings import check_target_name
    from core.notify import targets
    from core.notify.send import deliver

    if args.name == "-":
        target = targets.Target("stdin", targets.check_url(_read_url("URL (not shown): ")), "stdin")
    else:
        target = await asyncio.to_thread(targets.find, check_target_name(args.name))
    lines: list[str] = []
    body = ("A test message from compliance-tui: this target receives the drift alerts of the schedules "
            "that name it.\n")
    done = await deliver([target], "compliance-tui: test message", body, 1, 0, lines.append)
    if not done[0].sent:
        raise OperatorError(lines[-1] if lines else f"notify: {target.name}: not sent")
    say(lines[-1])
    return 0


COMMANDS = {
    ("notify", "add"): notify_add,
    ("notify", "remove"): notify_remove,
    ("notify", "list"): notify_list,
    ("notify", "test"): notify_test,
}
STORELESS = {notify_add, notify_remove, notify_test}
