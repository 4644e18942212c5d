"""`compliance-tui content`: which OS the installed content serves, and importing more."""

from __future__ import annotations

from pathlib import Path

from core.content import admin as content_admin
from core.content.catalog import SHORT_NAMES, ProfileChoice
from core.workspace import Workspace
from tui.cli.output import print_json, print_table, say


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
    }


def _cell(choice: ProfileChoice | str) -> str:
    if isinstance(choice, str):
        return "-"
    derived = f", {choice.derived_label}" if choice.derived_from else ""
    return f"{choice.datastream.path.name} {choice.datastream.version} ({choice.rule_count} rules{derived})"


async def content_list(workspace: Workspace, args) -> int:
    rows = content_admin.coverage(await workspace.datastreams())
    if args.json:
        print_json([{"os": row.label, "profiles": {name: choice_to_dict(c) for name, c in row.profiles.items()}}
                    for row in rows])
        return 0
    print_table(["OS", *(name.upper() for name in SHORT_NAMES)],
                [[row.label, *(_cell(row.profiles[name]) for name in SHORT_NAMES)] for row in rows])
    reasons = {row.label: next((c for c in row.profiles.values() if isinstance(c, str)), None) for row in rows}
    for label, reason in reasons.items():
        if reason:
            say(f"\n{reason}" if reason.startswith(label) else f"\n{label}: {reason}")
    return 0


async def content_import(workspace: Workspace, args) -> int:
    for found in content_admin.import_content(workspace.data_dir, args.path):
        ds = found.datastream
        say(f"imported {ds.path.name} (SSG {ds.version}, {len(ds.profiles)} profiles) -> {found.path}")
    return 0


COMMANDS = {("content", "list"): content_list, ("content", "import"): content_import}
