"""`compliance-tui content`: which OS the installed content serves, and importing more."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.output import print_json, print_table, say

if TYPE_CHECKING:
    from core.content.catalog import ProfileChoice
    from core.workspace import Workspace


def register(commands) -> None:
    group = commands.add_parser("content", help="SCAP content: coverage and import").add_subparsers(
        dest="action", required=True)
    group.add_parser("list", help="each OS of the catalog: its CIS profiles, or what is missing").add_argument(
        "--json", action="store_true")
    source = group.add_parser("import", help="add datastreams from a directory or a ComplianceAsCode zip")
    source.add_argument("path", type=Path, metavar="PATH")


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
                     "profiles": {name: choice_to_dict(c) for name, c in row.profiles.items()}} for row in rows])
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


COMMANDS = {("content", "list"): content_list, ("content", "import"): content_import}
