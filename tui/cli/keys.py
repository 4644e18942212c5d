"""`compliance-tui keys init | show | export`: the installation's key that signs every
completed scan (core/signing/keys.py). Only the public half is ever shown or written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.output import print_json, say

if TYPE_CHECKING:
    from core.domain.settings import Settings


def register(commands) -> None:
    keys = commands.add_parser(
        "keys", help="the key that signs scans' evidence",
        description="Every completed scan's record is signed with this installation's Ed25519 key: by "
                    "default signing-key.pem in the data dir (made at the first completed scan), or where "
                    "[evidence] signing_key says (a file's path, or \"keyring\"). The private key never leaves.",
    ).add_subparsers(dest="action", required=True)
    init = keys.add_parser("init", help="make the signing key (refuses to replace one)")
    init.add_argument("--json", action="store_true")
    show = keys.add_parser("show", help="the public key and its fingerprint")
    show.add_argument("--json", action="store_true")
    export = keys.add_parser("export", help="write the public key (PEM), for verifying elsewhere")
    export.add_argument("--output", metavar="FILE", help="the file to write (default: standard output)")


def _place(data_dir: Path, settings: Settings):
    from core.signing.keys import place_of

    return place_of(data_dir, settings.evidence.signing_key)


def _describe(key, json_output: bool, made: bool = False) -> int:
    from core.signing.keys import public_pem

    pem = public_pem(key.public).decode()
    if json_output:
        print_json({"fingerprint": key.fingerprint, "public_key": pem, "where": key.place.describe(),
                    "created": made})
        return 0
    if made:
        say(f"made a signing key in {key.place.describe()}")
    say(f"fingerprint {key.fingerprint}")
    say(f"kept in     {key.place.describe()}")
    print(pem, end="")
    return 0


async def keys_init(data_dir: Path, settings: Settings, args) -> int:
    import asyncio

    from core.signing.keys import create_key

    key = await asyncio.to_thread(create_key, _place(data_dir, settings))
    return _describe(key, args.json, made=True)


async def keys_show(data_dir: Path, settings: Settings, args) -> int:
    import asyncio

    from core.signing.keys import installation_key

    key = await asyncio.to_thread(installation_key, data_dir, settings.evidence.signing_key)
    return _describe(key, args.json)


async def keys_export(data_dir: Path, settings: Settings, args) -> int:
    import asyncio

    from core.files import write_private
    from core.signing.keys import installation_key, public_pem

    key = await asyncio.to_thread(installation_key, data_dir, settings.evidence.signing_key)
    pem = public_pem(key.public)
    if args.output:
        write_private(Path(args.output), pem)
        say(f"wrote the public key {key.fingerprint} to {args.output}", err=True)
    else:
        print(pem.decode(), end="")
    return 0


COMMANDS = {
    ("keys", "init"): keys_init,
    ("keys", "show"): keys_show,
    ("keys", "export"): keys_export,
}
STORELESS = set(COMMANDS.values())
