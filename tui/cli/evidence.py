"""`compliance-tui evidence du` and `evidence prune`: what the kept ARF evidence weighs, and
removing that of old scans (their results and scores stay). `evidence verify` checks scans'
signatures, the store against what was signed and the evidence bytes (core/results/verification.py);
`evidence export` writes a scan with its seal, to verify elsewhere with the public key alone."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.output import print_json, say

if TYPE_CHECKING:
    from core.domain.settings import Settings
    from core.results.verification import TrustedKeys, Verdict
    from core.workspace import Workspace

EXIT_UNVERIFIED = 1


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
    verify = evidence.add_parser(
        "verify", help="check scans' signatures, their stored results and their evidence bytes",
        description="Check each scan's signed record with the installation's public key (or --key): the "
                    "signature, every field of the record against the store, the rule results (a changed one "
                    "is named from the evidence), and the evidence's sha256. Exits 1 when any check fails. "
                    "Scans stored before signing existed are unsigned: reported, a failure only with --strict. "
                    "With --export, checks an `evidence export` file without any store.")
    which = verify.add_mutually_exclusive_group(required=True)
    which.add_argument("scan", nargs="?", metavar="SCAN", help="a scan id (or its first characters)")
    which.add_argument("--all", action="store_true", help="every completed scan")
    which.add_argument("--export", metavar="FILE", help="an `evidence export` file, checked offline")
    verify.add_argument("--key", metavar="PUBFILE", action="append",
                        help="a public key (PEM, from `keys export`) to trust; repeatable. Default: this "
                             "installation's key")
    verify.add_argument("--evidence", metavar="ARF", help="with --export: the scan's evidence file to check too")
    verify.add_argument("--strict", action="store_true", help="unsigned scans fail too")
    verify.add_argument("--json", action="store_true")
    export = evidence.add_parser(
        "export", help="write a scan with its signed record, to verify elsewhere",
        description="Write a scan, its rule results and its seal (signed record, signature, key fingerprint) "
                    "as JSON; with --arf also the evidence file as signed. On another machine: "
                    "`evidence verify --export FILE --key PUBFILE [--evidence ARF]`.")
    export.add_argument("scan", metavar="SCAN")
    export.add_argument("--output", metavar="FILE", help="the JSON file (default: the exports dir)")
    export.add_argument("--arf", metavar="FILE", help="also write the scan's evidence here, as it was signed")


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


def trusted_keys(data_dir: Path, settings: Settings, key_files: list[str] | None) -> TrustedKeys:
    """--key files, else this installation's public key (none yet: no key is trusted)."""
    from core.results.verification import TrustedKeys, installation_keys
    from core.signing.keys import read_public

    if key_files:
        return TrustedKeys(read_public(Path(f)) for f in key_files)
    return installation_keys(data_dir, settings.evidence.signing_key)


def _report(verdicts: list[Verdict], args) -> int:
    from core.results.verification import UNSIGNED, VERIFIED

    failed = [v for v in verdicts if v.status != VERIFIED and (v.status != UNSIGNED or args.strict)]
    if args.json:
        print_json({"verified": sum(v.status == VERIFIED for v in verdicts),
                    "unsigned": sum(v.status == UNSIGNED for v in verdicts),
                    "failed": len(failed), "scans": [v.to_dict() for v in verdicts]})
        return EXIT_UNVERIFIED if failed else 0
    for verdict in verdicts:
        signed = f" (key {verdict.key})" if verdict.key else ""
        say(f"{verdict.scan_id[:8]}  {verdict.host}  {verdict.status.upper()}{signed}")
        for problem in verdict.problems:
            say(f"    {problem}")
        for note in verdict.notes:
            say(f"    note: {note}")
    if len(verdicts) != 1:
        counts = {s: sum(v.status == s for v in verdicts) for s in ("verified", "unsigned", "failed")}
        say(", ".join(f"{n} {s}" for s, n in counts.items()))
    return EXIT_UNVERIFIED if failed else 0


async def evidence_verify(data_dir: Path, settings: Settings, args) -> int:
    """Storeless: --export needs no store at all (another machine, the public key alone)."""
    import asyncio
    import json

    from core.domain.errors import InvalidInput
    from core.domain.text import one_line
    from core.results import verification as verify
    from core.workspace import Workspace

    keys = await asyncio.to_thread(trusted_keys, data_dir, settings, args.key)
    if args.export:
        try:
            bundle = json.loads(Path(args.export).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput(f"{args.export}: cannot read it: {exc.strerror}") from None
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(f"{args.export}: not JSON (`evidence export` writes the file to check)") from None
        evidence = Path(args.evidence) if args.evidence else None
        return _report([await asyncio.to_thread(verify.verify_export, bundle, keys, evidence)], args)
    if args.evidence:
        raise InvalidInput("--evidence goes with --export: a stored scan's evidence is found in the store")
    async with await Workspace.open(data_dir, settings=settings) as workspace:
        for notice in workspace.notices:
            print(f"notice: {one_line(notice, 1000)}", file=sys.stderr)
        if args.all:
            ids = [s.id for s in reversed(await workspace.store.find_scans(status="completed"))]
        else:
            ids = [(await workspace.store.get_scan(args.scan)).id]
        verdicts = [await verify.verify_scan(workspace, scan_id, keys) for scan_id in ids]
    return _report(verdicts, args)


async def evidence_export(workspace: Workspace, args) -> int:
    from core.results import signed_export as export

    written = await export.export_scan(workspace, args.scan, Path(args.output) if args.output else None,
                                       Path(args.arf) if args.arf else None)
    for path in written:
        say(f"wrote {path}")
    return 0


COMMANDS = {
    ("evidence", "du"): evidence_du,
    ("evidence", "prune"): evidence_prune,
    ("evidence", "verify"): evidence_verify,
    ("evidence", "export"): evidence_export,
}
STORELESS = {evidence_verify}
