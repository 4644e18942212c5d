"""`compliance-tui content`: which OS the installed content serves, and importing more."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.content.catalog import ProfileChoice
    from core.workspace import Workspace


def register(commands) -> None:
    group = commands.add_parser("content", help="SCAP content: coverage and import").add_subparsers(
        dest="action", required=True)
    group.add_parser("list", help="each OS of the catalog: its CIS profiles, or what is missing, and its "
                                  "frameworks").add_argument("--json", action="store_true")
    profiles = group.add_parser("profiles", help="every profile for a host's detected OS, by framework, with "
                                                 "the name to give scan --profile")
    profiles.add_argument("name", metavar="HOST")
    profiles.add_argument("--json", action="store_true")
    source = group.add_parser("import", help="add datastreams from a directory or a ComplianceAsCode zip")
    source.add_argument("path", type=Path, metavar="PATH")


def frameworks_to_list(choices: Iterable[ProfileChoice]) -> list[dict]:
    from core.content.catalog import by_framework

    return [{"framework": framework.key, "label": framework.label,
             "profiles": [{"name": c.short_name or c.profile_id} | choice_to_dict(c) for c in group]}
            for framework, group in by_framework(choices).items()]


def frameworks_text(choices: Iterable[ProfileChoice]) -> str:
    """'CIS (4), DISA STIG (2), ...'; derived content says from what, once when it serves them all."""
    from core.content.catalog import by_framework

    groups = by_framework(choices)
    every_source = {c.derived_from for group in groups.values() for c in group}
    all_derived = len(every_source) == 1 and None not in every_source
    said = []
    for framework, group in groups.items():
        sources = {c.derived_from for c in group}
        derived = "" if all_derived or len(sources) > 1 or None in sources else f", derived from {sources.pop()}"
        said.append(f"{framework.label} ({len(group)}{derived})")
    tail = f"; all derived from {every_source.pop()} content" if all_derived else ""
    return ", ".join(said) + tail if said else "-"


def choice_to_dict(choice: ProfileChoice | str) -> dict:
    if isinstance(choice, str):
        return {"available": False, "reason": choice}
    return {
        "available": True, "xccdf_id": choice.profile_id, "title": choice.title,
        "rules": choice.rule_count, "datastream": choice.datastream.path.name,
        "path": str(choice.datastream.path), "release": choice.datastream.version,
        "derived_from": choice.derived_from,
        "switched_off": [{"rule": rule, "reason": reason} for rule, reason in choice.switched_off],
    }


def _cell(choice: ProfileChoice | str) -> str:
    if isinstance(choice, str):
        return "-"
    derived = f", {choice.derived_label}" if choice.derived_from else ""
    off = f", {len(choice.switched_off)} switched off" if choice.switched_off else ""
    return f"{choice.datastream.path.name} {choice.datastream.version} ({choice.rule_count} rules{derived}{off})"


HOW_TO_GET = ("Content that is not here: `make content` fetches newer SSG releases from the Debian mirror "
              "in the apt sources (on Ubuntu give one: `make content DEBIAN_MIRROR=URL`), or import a "
              "ComplianceAsCode release zip (scap-security-guide-<version>.zip) with "
              "`compliance-tui content import PATH`.")


async def content_list(workspace: Workspace, args) -> int:
    from core.content import admin as content_admin
    from core.content.catalog import RULE_PREFIX, SHORT_NAMES

    rows = content_admin.coverage(await workspace.datastreams())
    if args.json:
        print_json([{"os": row.label, "beyond_spec": row.beyond_spec, "missing_content": row.missing_content,
                     "profiles": {name: choice_to_dict(c) for name, c in row.profiles.items()},
                     "frameworks": frameworks_to_list(row.every)} for row in rows])
        return 0
    table: list[list[str]] = []
    for row in rows:
        if row.beyond_spec and not any(r[0] == "" for r in table):
            table.append(["", "(beyond the spec's table)", ""])
        table.append([row.label, *(_cell(row.profiles[name]) for name in SHORT_NAMES)])
    print_table(["OS", *(name.upper() for name in SHORT_NAMES)], table)
    for row in rows:
        reason = next((c for c in row.profiles.values() if isinstance(c, str)), None)
        if reason:
            say(f"\n{reason}" if reason.startswith(row.label) else f"\n{row.label}: {reason}")
        by_reason: dict[str, list[str]] = {}
        for rule, why in row.switched_off:
            by_reason.setdefault(why, []).append(rule.removeprefix(RULE_PREFIX))
        for why, rules in by_reason.items():
            say(f"\n{row.label}: switched off {', '.join(rules)}: {why}")
    say("\nFrameworks per OS (profiles of each; `compliance-tui content profiles HOST` names them):")
    print_table(["OS", "FRAMEWORKS"], [[row.label, frameworks_text(row.every)] for row in rows])
    missing = [row.label for row in rows if row.missing_content]
    if missing:
        say(f"\nNeed content that is not here: {', '.join(missing)}.\n{HOW_TO_GET}")
    return 0


async def content_import(workspace: Workspace, args) -> int:
    from core.content import admin as content_admin

    for found in content_admin.import_content(workspace.data_dir, args.path):
        ds = found.datastream
        say(f"imported {ds.path.name} (SSG {ds.version}, {len(ds.profiles)} profiles) -> {found.path}")
    return 0


async def content_profiles(workspace: Workspace, args) -> int:
    from core.content.catalog import OsNotDetected, every_profile, resolve_profile

    host = await workspace.store.require_host(args.name)
    if (os_info := host.os_info) is None:
        raise OsNotDetected(host.name)
    datastreams = await workspace.datastreams()
    choices = every_profile(os_info, datastreams)
    if not choices:  # says why: the OS is outside the catalog, or its content is not here
        resolve_profile(os_info, "cis-level1-server", datastreams)
    if args.json:
        print_json({"host": host.name, "os": host.os_name, "frameworks": frameworks_to_list(choices)})
        return 0
    say(f"{host.name}: {host.os_name}; scan with `compliance-tui scan {host.name} --profile PROFILE`")
    table = []
    for choice in choices:
        derived = f", {choice.derived_label}" if choice.derived_from else ""
        table.append([choice.framework.label, choice.short_name or choice.profile_id, choice.title,
                      f"{choice.rule_count} rules ({choice.datastream.path.name} "
                      f"{choice.datastream.version}{derived})"])
    print_table(["FRAMEWORK", "PROFILE", "TITLE", "RULES"], table)
    return 0


COMMANDS = {("content", "list"): content_list, ("content", "import"): content_import,
            ("content", "profiles"): content_profiles}
