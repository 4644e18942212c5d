"""The `compliance-tui` command: the TUI without arguments, the headless CLI with them.

Thin on purpose: every command opens a Workspace and calls a core service.
Exit codes: 0 success, 1 an operator error (one line on stderr), 2 bad usage,
3 a score below --fail-under.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from core import paths
from core.content import tailoring
from core.content.catalog import ContentError, available_profiles
from core.domain import validate
from core.domain.errors import OperatorError
from core.domain.models import RESULT_VALUES, Host, OsInfo, ScanStatus
from core.hosts import service as host_service
from core.jobs import scan as scanner
from core.results import exports
from core.targets import ssh
from core.views import serialize
from core.workspace import Workspace
from tui import cli_content, cli_import, cli_reports
from tui.output import print_json, print_table

# Feature modules add their own commands: each has register(commands) and COMMANDS.
FEATURES: tuple = (cli_content, cli_import, cli_reports)

EXIT_ERROR, EXIT_USAGE, EXIT_BELOW_THRESHOLD = 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compliance-tui",
        description="CIS compliance scans of Linux servers with OpenSCAP over SSH.",
    )
    parser.add_argument("--data-dir", help=f"where the store lives (default: platform data dir, or ${paths.ENV_HOME})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    hosts = commands.add_parser("hosts", help="manage hosts").add_subparsers(dest="action", required=True)
    add = hosts.add_parser("add", help="add a host")
    add.add_argument("name")
    add.add_argument("--address", required=True)
    add.add_argument("--port", default="22")
    add.add_argument("--user")
    add.add_argument("--identity", help="private key file")
    add.add_argument("--known-hosts", help="known_hosts file (default ~/.ssh/known_hosts)")
    add.add_argument("--sudo-password-env", metavar="VAR",
                     help="name of an environment variable holding the sudo password")
    add.add_argument("--tailoring", metavar="FILE", type=Path, help="XCCDF tailoring file for its scans")
    tailor = hosts.add_parser("tailor", help="set or clear the XCCDF tailoring file of a host")
    tailor.add_argument("name")
    which = tailor.add_mutually_exclusive_group(required=True)
    which.add_argument("file", nargs="?", type=Path, metavar="FILE")
    which.add_argument("--clear", action="store_true")
    hosts.add_parser("list", help="list hosts").add_argument("--json", action="store_true")
    hosts.add_parser("remove", help="remove a host and its scans").add_argument("name")
    trust = hosts.add_parser("trust", help="trust the host key a host presents now")
    trust.add_argument("name")
    trust.add_argument("--yes", action="store_true", help="do not ask (you verified the fingerprint)")
    for action, text in (("detect", "detect the OS and the profiles available"),
                         ("check", "check connectivity, sudo and oscap")):
        sub = hosts.add_parser(action, help=text)
        sub.add_argument("name")
        sub.add_argument("--json", action="store_true")

    scan = commands.add_parser("scan", help="scan hosts and wait for the results")
    scan.add_argument("names", nargs="+", metavar="NAME")
    scan.add_argument("--profile", required=True,
                      help="cis-level1-server, cis-level2-server or an xccdf profile id")
    scan.add_argument("--json", action="store_true")
    scan.add_argument("--fail-under", type=float, metavar="SCORE", help="exit 3 when a score is below")
    scan.add_argument("--timeout", type=int, metavar="SECONDS", help="per-scan timeout")
    scan.add_argument("--max-concurrent", type=int, metavar="N", help="scans at once")
    scan.add_argument("--tailoring", metavar="FILE", type=Path,
                      help="XCCDF tailoring file for these scans (instead of the hosts' own)")

    scans = commands.add_parser("scans", help="list scans").add_subparsers(dest="action", required=True)
    listing = scans.add_parser("list", help="list scans, newest first")
    listing.add_argument("--host")
    listing.add_argument("--status", choices=[s.value for s in ScanStatus])
    listing.add_argument("--json", action="store_true")

    results = commands.add_parser("results", help="rule results of a scan")
    results.add_argument("scan_id", metavar="SCAN_ID", help="full UUID or its first 8 characters")
    results.add_argument("--result", choices=RESULT_VALUES)
    form = results.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true")
    form.add_argument("--csv", action="store_true")
    for feature in FEATURES:
        feature.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = paths.data_dir(args.data_dir)
    if args.command is None:
        from tui.app import run_app  # only here: headless commands never load Textual

        run_app(data_dir)
        return 0
    try:
        return asyncio.run(_dispatch(args, data_dir))
    except (OperatorError, ContentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `... | head` closed the pipe: not an error of ours
        # Python would fail again flushing stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


async def _dispatch(args: argparse.Namespace, data_dir: Path) -> int:
    async with await Workspace.open(data_dir) as workspace:
        handler = _handlers()[(args.command, getattr(args, "action", None))]
        return await handler(workspace, args)


async def hosts_add(workspace: Workspace, args) -> int:
    host = Host(
        name=args.name, address=args.address, port=validate.parse_port(args.port),
        username=args.user, identity_file=args.identity, known_hosts=args.known_hosts,
        sudo_password_env=args.sudo_password_env,
    )
    validate.validate_host(host)
    if args.tailoring:
        host.tailoring_file = str(tailoring.keep_copy(workspace.data_dir, args.tailoring).path)
    await host_service.add_host(workspace, host)
    print(f"added {host.name} ({host.address}:{host.port}); next: compliance-tui hosts check {host.name}")
    return 0


async def hosts_list(workspace: Workspace, args) -> int:
    hosts = await workspace.store.list_hosts()
    if args.json:
        print_json([serialize.host_to_dict(h) for h in hosts])
        return 0
    print_table(["NAME", "ADDRESS", "PORT", "USER", "OS", "STATUS"],
                 [[h.name, h.address, h.port, h.username, h.os_name, h.status] for h in hosts])
    return 0


async def hosts_remove(workspace: Workspace, args) -> int:
    removed = await workspace.store.remove_host(args.name)
    print(f"removed {args.name} and its {removed} scan(s)")
    return 0


async def hosts_tailor(workspace: Workspace, args) -> int:
    host = await workspace.store.require_host(args.name)
    if args.clear:
        host.tailoring_file = None
        print(f"{host.name}: scans use the profiles as the benchmark defines them")
    else:
        kept = tailoring.keep_copy(workspace.data_dir, args.file)
        host.tailoring_file = str(kept.path)
        print(f"{host.name}: scans use tailoring {kept.name} (profiles: {', '.join(kept.profiles)})")
    await workspace.store.update_host(host)
    return 0


async def hosts_trust(workspace: Workspace, args) -> int:
    host, key, trusted = await host_service.host_key(workspace, args.name)
    print(f"{host.name} ({host.address}:{host.port}) presents {ssh.fingerprint(key)}")
    if trusted:
        print("this key is trusted already")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise OperatorError("verify the fingerprint above, then run again with --yes")
        if input("Trust this key? [y/N] ").strip().lower() not in ("y", "yes"):
            print("not trusted")
            return EXIT_ERROR
    path = ssh.trust_key(host, key)
    print(f"trusted: added to {path}")
    return 0


async def hosts_detect(workspace: Workspace, args) -> int:
    host = await host_service.detect_os(workspace, args.name)
    os_info = OsInfo(host.os_id, host.os_version, host.os_name, host.os_family)
    problem = None
    try:
        profiles = available_profiles(os_info, await workspace.datastreams())
    except ContentError as exc:
        profiles, problem = [], str(exc)
    if args.json:
        print_json(serialize.host_to_dict(host) | {
            "profiles": [{"name": p.short_name, "xccdf_id": p.profile_id, "title": p.title,
                          "rules": p.rule_count, "datastream": p.datastream.path.name,
                          "content_version": p.datastream.version, "derived_from": p.derived_from}
                         for p in profiles],
            "problem": problem,
        })
        return 0
    print(f"{host.name}: {host.os_name} (id {host.os_id}, version {host.os_version}, family {host.os_family})")
    for p in profiles:
        derived = f", {p.derived_label}" if p.derived_from else ""
        print(f"  {p.short_name or p.profile_id}: {p.title}, {p.rule_count} rules "
              f"({p.datastream.path.name}, SSG {p.datastream.version}{derived})")
    if problem or not profiles:
        print(f"  no CIS profile available: {problem or 'no installed datastream has one'}")
    return 0


async def hosts_check(workspace: Workspace, args) -> int:
    report = await host_service.check_host(workspace, args.name)
    if args.json:
        print_json(report.as_dict())
    else:
        for label, ok in (("reachable", report.reachable), ("authenticated", report.authenticated),
                          ("oscap", report.oscap), ("sudo", report.sudo)):
            print(f"{label:14} {'yes' if ok else 'no'}")
        print(f"{'oscap version':14} {report.oscap_version or '-'}")
        print(f"{'os':14} {report.os or '-'}")
        if report.error:
            print(f"error: {report.error}", file=sys.stderr)
    return 0 if report.ready else EXIT_ERROR


async def scan(workspace: Workspace, args) -> int:
    if args.timeout is not None:
        workspace.scan_timeout = max(1, args.timeout)
    if args.max_concurrent is not None:
        workspace.max_concurrent = max(1, args.max_concurrent)
    hosts = [await workspace.store.require_host(name) for name in dict.fromkeys(args.names)]
    reporter = None if args.json else _ProgressPrinter()
    override = tailoring.read_tailoring(args.tailoring) if args.tailoring else None
    scans = await scanner.scan_hosts(workspace, hosts, args.profile,
                                     on_progress=reporter and reporter.progress, tailoring=override)
    if args.json:
        print_json([serialize.scan_to_dict(s) for s in scans])
    else:
        print_table(
            ["SCAN", "HOST", "STATUS", "SCORE", "PASSED", "FAILED", "DURATION"],
            [[s.id, s.host_name, s.status.value, s.score, s.counts.get("pass", 0),
              s.counts.get("fail", 0), s.duration_s] for s in scans],
        )
        for s in scans:
            for message in (s.error_message, s.notice):
                if message:
                    print(f"{s.short_id} {s.host_name}: {message}", file=sys.stderr)
    if any(s.status is not ScanStatus.COMPLETED for s in scans):
        return EXIT_ERROR
    if args.fail_under is not None and any((s.score or 0) < args.fail_under for s in scans):
        return EXIT_BELOW_THRESHOLD
    return 0


class _ProgressPrinter:
    """Progress on stderr, one line per scan each time it crosses another tenth."""

    def __init__(self):
        self.shown: dict[str, int] = {}

    def progress(self, scan_id: str, done: int, total: int | None) -> None:
        step = done * 10 // total if total else done // 50
        if self.shown.get(scan_id) != step:
            self.shown[scan_id] = step
            print(f"{scan_id[:8]}: {done} / {total or '?'} rules", file=sys.stderr)


async def scans_list(workspace: Workspace, args) -> int:
    scans = await workspace.store.list_scans(host=args.host, status=args.status)
    if args.json:
        print_json([serialize.scan_to_dict(s) for s in scans])
        return 0
    print_table(
        ["SCAN", "HOST", "PROFILE", "STATUS", "SCORE", "PASSED", "FAILED", "DURATION", "CREATED"],
        [[s.short_id, s.host_name, s.profile, s.status.value, s.score, s.counts.get("pass"),
          s.counts.get("fail"), s.duration_s, s.created_at[:19].replace("T", " ")] for s in scans],
    )
    return 0


async def results(workspace: Workspace, args) -> int:
    found = await workspace.store.get_scan(args.scan_id)
    found_results = await workspace.store.rule_results(found.id, args.result)
    if args.json or args.csv:
        fmt = "json" if args.json else "csv"
        cli_reports.to_stdout(lambda out: exports.write_results(found_results, fmt, out))
    else:
        print_table(["RESULT", "SEVERITY", "RULE", "TITLE"],
                     [[r.result, r.severity, r.rule_id, r.title] for r in found_results])
    return 0


def _handlers() -> dict:
    handlers = dict(COMMANDS)
    for feature in FEATURES:
        handlers.update(feature.COMMANDS)
    return handlers


COMMANDS = {
    ("hosts", "add"): hosts_add,
    ("hosts", "list"): hosts_list,
    ("hosts", "remove"): hosts_remove,
    ("hosts", "trust"): hosts_trust,
    ("hosts", "tailor"): hosts_tailor,
    ("hosts", "detect"): hosts_detect,
    ("hosts", "check"): hosts_check,
    ("scan", None): scan,
    ("scans", "list"): scans_list,
    ("results", None): results,
}
