"""`compliance-tui hosts`: add, list, remove, trust, tailor, detect and check hosts.

Each command imports the core it uses: `hosts list` never loads SSH or the inventory parsers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain.errors import OperatorError
from core.domain.models import Host, OsInfo
from core.hosts import kinds
from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.hosts import importing
    from core.hosts.candidates import Found
    from core.workspace import Workspace

EXIT_ERROR = 1


def register(commands) -> None:
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
    add.add_argument("--tag", action="append", metavar="TAG", help="a tag (repeat, or comma-separated)")
    add.add_argument("--zone", metavar="NAME", help="its network zone: only `worker --zone NAME` runs its jobs")
    edit = hosts.add_parser("edit", help="change a host's address, port, user, identity or zone")
    edit.add_argument("name")
    edit.add_argument("--address")
    edit.add_argument("--port")
    edit.add_argument("--user")
    edit.add_argument("--identity", help="private key file")
    edit.add_argument("--known-hosts", help="known_hosts file")
    edit.add_argument("--sudo-password-env", metavar="VAR")
    edit.add_argument("--zone", metavar="NAME", help="its network zone; '' takes it out of its zone")
    tag = hosts.add_parser("tag", help="set a host's tags (none: clear them)")
    tag.add_argument("name")
    tag.add_argument("tags", nargs="*", metavar="TAG")
    tailor = hosts.add_parser("tailor", help="set or clear the XCCDF tailoring file of a host")
    tailor.add_argument("name")
    which = tailor.add_mutually_exclusive_group(required=True)
    which.add_argument("file", nargs="?", type=Path, metavar="FILE")
    which.add_argument("--clear", action="store_true")
    hosts.add_parser("list", help="list hosts").add_argument("--json", action="store_true")
    hosts.add_parser("remove", help="remove a host with its scans, jobs and evidence").add_argument("name")
    trust = hosts.add_parser("trust", help="trust the host key a host presents now")
    trust.add_argument("name")
    trust.add_argument("--yes", action="store_true", help="do not ask (you verified the fingerprint)")
    source = hosts.add_parser("import", help="add the hosts of an SSH client config or an Ansible inventory",
                              description="Read FILE, check each host as `hosts add` does, add those that "
                              "pass and say why the others are skipped (an Ansible host's groups become its tags).")
    source.add_argument("file", type=Path, metavar="FILE", help="e.g. ~/.ssh/config, inventory.ini, hosts.yml")
    source.add_argument("--kind", choices=kinds.KINDS, help="the file's kind (default: told from its name and text)")
    source.add_argument("--dry-run", action="store_true", help="list what would be added; add nothing")
    source.add_argument("--json", action="store_true")
    for action, text in (("detect", "detect the OS and the profiles available"),
                         ("check", "check connectivity, sudo and oscap")):
        sub = hosts.add_parser(action, help=text)
        sub.add_argument("name")
        sub.add_argument("--json", action="store_true")


async def hosts_add(workspace: Workspace, args) -> int:
    from core.domain.policy import parse_tags, parse_zone
    from core.domain.validate import parse_port, validate_host
    from core.hosts import service

    host = validate_host(Host(
        name=args.name, address=args.address, port=parse_port(args.port),
        username=args.user, identity_file=args.identity, known_hosts=args.known_hosts,
        sudo_password_env=args.sudo_password_env, tags=parse_tags(args.tag), zone=parse_zone(args.zone),
    ))
    await service.add_host(workspace, host)
    warn_unset_env(host)
    if args.tailoring:
        await service.set_tailoring(workspace, host.name, args.tailoring)
    say(f"added {host.name} ({host.endpoint}); next: compliance-tui hosts check {host.name}")
    return 0


async def hosts_edit(workspace: Workspace, args) -> int:
    from core.domain.validate import parse_port
    from core.hosts import service

    given = {"address": args.address, "port": args.port, "username": args.user, "identity_file": args.identity,
             "known_hosts": args.known_hosts, "sudo_password_env": args.sudo_password_env, "zone": args.zone}
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise OperatorError("nothing to change: give --address, --port, --user, --identity, --known-hosts, "
                            "--sudo-password-env or --zone")
    if "port" in changes:
        changes["port"] = parse_port(changes["port"])
    host = await service.edit_host(workspace, args.name, **changes)
    if "sudo_password_env" in changes:
        warn_unset_env(host)
    zone = f", zone {host.zone}" if host.zone else ", no zone"
    say(f"changed {host.name} ({host.endpoint}{zone})")
    return 0


def warn_unset_env(host: Host) -> None:
    """The host is saved; a sudo password variable not set here is said in one line."""
    from core.domain.validate import check_sudo_password_env

    warning = check_sudo_password_env(host.sudo_password_env)
    if warning:
        say(f"warning: {warning}", err=True)


async def hosts_import(workspace: Workspace, args) -> int:
    from core.hosts import importing

    parsed = await importing.preview(workspace, args.file, args.kind)
    usable = [item for item in parsed.found if item.problem is None]
    done = importing.Added() if args.dry_run else await importing.add(workspace, usable)
    rows = _import_rows(parsed, done, args.dry_run)
    counts = {outcome: sum(1 for _, o, _ in rows if o == outcome) for outcome in IMPORT_OUTCOMES}
    if args.json:
        print_json({"file": str(args.file), "kind": parsed.kind, "dry_run": args.dry_run,
                    "hosts": [_imported_to_dict(item, outcome, why) for item, outcome, why in rows],
                    "counts": counts, "warnings": parsed.warnings})
    else:
        print_table(["NAME", "ADDRESS", "USER", "TAGS", "FROM", "OUTCOME"],
                    [[i.host.name, i.host.endpoint, i.host.username, ",".join(i.host.tags) or None, i.origin,
                      outcome.replace("_", " ") + (f": {why}" if why else "")] for i, outcome, why in rows])
        say(_import_summary(args.file, counts, args.dry_run))
    for note in parsed.warnings:  # e.g. a Match block not read, a group that cannot be a tag
        say(f"note: {note}", err=True)
    return EXIT_ERROR if done.failed else 0


IMPORT_OUTCOMES = ("added", "would_add", "skipped", "failed")


def _import_rows(parsed, done: importing.Added, dry_run: bool) -> list[tuple[Found, str, str | None]]:
    """(host, outcome, why) for every host of the file, in the file's order."""
    failed = {id(item): why for item, why in done.failed}
    rows = []
    for item in parsed.found:
        if item.problem:
            rows.append((item, "skipped", item.problem))
        elif dry_run:
            rows.append((item, "would_add", None))
        else:
            rows.append((item, "failed", failed[id(item)]) if id(item) in failed else (item, "added", None))
    return rows


def _imported_to_dict(item: Found, outcome: str, why: str | None) -> dict:
    host = item.host
    return {"name": host.name, "address": host.address, "port": host.port, "user": host.username,
            "identity_file": host.identity_file, "transport": host.transport, "tags": list(host.tags),
            "origin": item.origin, "outcome": outcome, "reason": why}


def _import_summary(path: Path, counts: dict[str, int], dry_run: bool) -> str:
    skipped = f", {counts['skipped']} skipped" if counts["skipped"] else ""
    if dry_run:
        return f"{counts['would_add']} host(s) of {path} would be added{skipped}; nothing added (--dry-run)"
    failed = f", {counts['failed']} failed" if counts["failed"] else ""
    after = "; next: compliance-tui hosts trust NAME, then hosts check NAME" if counts["added"] else ""
    return f"added {counts['added']} host(s) from {path}{skipped}{failed}{after}"


async def hosts_list(workspace: Workspace, args) -> int:
    hosts = await workspace.store.find_hosts()
    if args.json:
        from core.views.serialize import host_to_dict

        print_json([host_to_dict(h) for h in hosts])
        return 0
    print_table(["NAME", "ADDRESS", "PORT", "USER", "OS", "STATUS", "ZONE", "TAGS"],
                [[h.name, h.address, h.port, h.username, h.os_name, h.status, h.zone, ",".join(h.tags) or None]
                 for h in hosts])
    return 0


async def hosts_tag(workspace: Workspace, args) -> int:
    from core.hosts import service

    host = await service.set_tags(workspace, args.name, args.tags)
    say(f"{host.name}: tags {', '.join(host.tags)}" if host.tags else f"{host.name}: no tags")
    return 0


async def hosts_remove(workspace: Workspace, args) -> int:
    from core.hosts import service

    removed = await service.remove_host(workspace, args.name)
    say(f"removed {args.name} and its {removed} scan(s)")
    return 0


async def hosts_tailor(workspace: Workspace, args) -> int:
    from core.hosts import service

    host, kept = await service.set_tailoring(workspace, args.name, None if args.clear else args.file)
    if kept is None:
        say(f"{host.name}: scans use the profiles as the benchmark defines them")
    else:
        say(f"{host.name}: scans use tailoring {kept.name} (profiles: {', '.join(kept.profiles)})")
    return 0


async def hosts_trust(workspace: Workspace, args) -> int:
    from core.hosts import service
    from core.targets import ssh

    presented = await service.host_key(workspace, args.name)
    host = presented.host
    say(f"{host.name} ({host.endpoint}) presents {presented.fingerprint}")
    if presented.trusted:
        say("this key is trusted already")
        return 0
    if presented.changed:
        raise OperatorError(f"{host.name}: HOST KEY CHANGED: {ssh.known_hosts_path(host)} holds a different key "
                            "for this host; if the change is expected, remove the old line first")
    if not args.yes:
        if not sys.stdin.isatty():
            raise OperatorError("verify the fingerprint above, then run again with --yes")
        if input("Trust this key? [y/N] ").strip().lower() not in ("y", "yes"):
            say("not trusted")
            return EXIT_ERROR
    path = await service.trust_host_key(workspace, presented)
    say(f"trusted: added to {path}")
    return 0


async def hosts_detect(workspace: Workspace, args) -> int:
    from core.content.catalog import ContentError, available_profiles, every_profile
    from core.hosts import service
    from core.views.serialize import host_to_dict
    from tui.cli.content import frameworks_text, frameworks_to_list

    host = await service.detect_os(workspace, args.name)
    os_info = OsInfo(host.os_id or "", host.os_version or "", host.os_name or "", host.os_family or "")  # all set
    problem = None
    datastreams = await workspace.datastreams()
    try:
        profiles = available_profiles(os_info, datastreams)
    except ContentError as exc:
        profiles, problem = [], str(exc)
    every = every_profile(os_info, datastreams)
    if args.json:
        print_json(host_to_dict(host) | {
            "profiles": [{"name": p.short_name, "xccdf_id": p.profile_id, "title": p.title,
                          "rules": p.rule_count, "datastream": p.datastream.path.name,
                          "content_version": p.datastream.version, "derived_from": p.derived_from}
                         for p in profiles],
            "problem": problem,
            "frameworks": frameworks_to_list(every),
        })
        return 0
    say(f"{host.name}: {host.os_name} (id {host.os_id}, version {host.os_version}, family {host.os_family})")
    for p in profiles:
        derived = f", {p.derived_label}" if p.derived_from else ""
        say(f"  {p.short_name or p.profile_id}: {p.title}, {p.rule_count} rules "
            f"({p.datastream.path.name}, SSG {p.datastream.version}{derived})")
    if problem or not profiles:
        say(f"  no CIS profile available: {problem or 'no installed datastream has one'}")
    if len(every) > len(profiles):
        say(f"  frameworks: {frameworks_text(every)}; `compliance-tui content profiles {host.name}` lists them")
    return 0


async def hosts_check(workspace: Workspace, args) -> int:
    from core.hosts import service

    report = await service.check_host(workspace, args.name)
    if args.json:
        print_json(report.as_dict())
    else:
        for label, found, _ok in report.steps():
            say(f"{label:14} {found.replace('—', '-')}")
        say(f"{'oscap version':14} {report.oscap_version or '-'}")
        say(f"{'os':14} {report.os or '-'}")
        if report.error:
            say(f"error: {report.error}", err=True)
    return 0 if report.ready else EXIT_ERROR


COMMANDS = {
    ("hosts", "add"): hosts_add,
    ("hosts", "edit"): hosts_edit,
    ("hosts", "import"): hosts_import,
    ("hosts", "list"): hosts_list,
    ("hosts", "remove"): hosts_remove,
    ("hosts", "trust"): hosts_trust,
    ("hosts", "tailor"): hosts_tailor,
    ("hosts", "tag"): hosts_tag,
    ("hosts", "detect"): hosts_detect,
    ("hosts", "check"): hosts_check,
}
