"""Start played hosts by hand: `python -m tests.fleet up [OS ...]` (as root), Ctrl-C stops them."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
from pathlib import Path

from tests.fleet.hosts import SCAN_USER, Fleet, make_client_key
from tests.oscap_results import PLAYED_OS


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fleet")
    parser.add_argument("action", choices=["up"])
    parser.add_argument("os", nargs="*", default=["ubuntu2204"], help=", ".join(sorted(PLAYED_OS)))
    parser.add_argument("--port", type=int, default=2222, help="port of the first host")
    args = parser.parse_args()
    unknown = set(args.os) - set(PLAYED_OS)
    if unknown:
        parser.error(f"cannot play {', '.join(sorted(unknown))}; choose from {', '.join(sorted(PLAYED_OS))}")
    if os.geteuid() != 0:
        parser.error("the test fleet needs root (mount namespaces and sshd)")
    base = Path(tempfile.mkdtemp(prefix="compliance-tui-fleet-", dir="/var/tmp"))
    key = make_client_key(base / "client")
    fleet = Fleet(base / "hosts", key)
    known_hosts = base / "known_hosts"
    try:
        for offset, played in enumerate(args.os):
            host = fleet.add(played, played, args.port + offset)
            print(f"{played}: 127.0.0.1:{host.port}")
        known_hosts.write_text(fleet.known_hosts())
        print("\nAdd them with:")
        for host in fleet.hosts.values():
            print(f"  compliance-tui hosts add {host.name} --address 127.0.0.1 --port {host.port} "
                  f"--user {SCAN_USER} --identity {key} --known-hosts {known_hosts}")
        print("\nCtrl-C stops the fleet.")
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        fleet.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
