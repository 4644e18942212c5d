"""Bytes on the wire and wall time of a CIS Level 1 scan of one fleet host (run as root).

Goals (issue 2): at most 3 MB on the wire for a first scan and 1.5 MB for a repeat scan;
a repeat scan's wall time within 1.3 times oscap's own evaluation time on that host.
A counting TCP relay between the app and the host's sshd measures the wire exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.relay import CountingRelay  # shared with the suite (tests/bench/wire.py)
from tests.conftest import free_port
from tests.fleet.hosts import Fleet, make_client_key
from tests.oscap_results import CIS_L1_SERVER, datastream

RUNS = 3


def cli(env: dict, *args: str) -> tuple[float, object]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tui", *args], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{args} failed: {done.stderr}{done.stdout}")
    return elapsed, json.loads(done.stdout) if "--json" in args else None


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("the benchmark plays a fleet host: run it as root")
    base = Path(tempfile.mkdtemp(prefix="bench-", dir="/var/tmp"))
    fleet = Fleet(base / "hosts", make_client_key(base / "client"))
    try:
        host = fleet.add("u2204", "ubuntu2204", free_port())
        relay = CountingRelay(host.port)
        home = base / "home"
        (home / ".ssh").mkdir(parents=True)
        key = host.known_hosts_line().split(" ", 1)[1]
        (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{relay.port} {key}")
        env = os.environ | {"HOME": str(home), "COMPLIANCE_TUI_HOME": str(base / "data")}
        cli(env, "hosts", "add", "u2204", "--address", "127.0.0.1", "--port", str(relay.port),
            "--user", "scanner", "--identity", str(fleet.client_key))
        cli(env, "hosts", "detect", "u2204")  # content discovery once, outside the measurements

        scans = []
        for run in range(RUNS + 1):
            relay.reset()
            wall, (scan,) = cli(env, "scan", "u2204", "--profile", "cis-level1-server", "--json")
            assert scan["status"] == "completed", scan["error_message"]
            scans.append((relay.bytes, wall, scan["duration_s"]))

        own = []
        for _ in range(RUNS):
            arf = f"/tmp/bench-own-{os.getpid()}.xml"
            started = time.monotonic()
            host.run_inside(["oscap", "xccdf", "eval", "--profile", CIS_L1_SERVER, "--progress",
                             "--results-arf", arf, str(datastream("ubuntu2204"))])
            own.append(time.monotonic() - started)
            os.unlink(arf)
    finally:
        fleet.stop()
        shutil.rmtree(base, ignore_errors=True)

    first_bytes, first_wall, first_scan = scans[0]
    repeat = scans[1:]
    repeat_bytes = max(b for b, _, _ in repeat)
    repeat_wall = min(w for _, w, _ in repeat)
    repeat_scan = min(d for _, _, d in repeat)
    oscap_own = min(own)
    print(f"first scan:  {first_bytes / 1e6:.2f} MB on the wire (goal <= 3), "
          f"scan {first_scan:.1f} s, command {first_wall:.1f} s")
    print(f"repeat scan: {repeat_bytes / 1e6:.2f} MB on the wire (goal <= 1.5), "
          f"scan {repeat_scan:.1f} s, command {repeat_wall:.1f} s (best of {RUNS})")
    print(f"oscap's own evaluation on the host: {oscap_own:.1f} s (best of {RUNS})")
    print(f"repeat scan / oscap: {repeat_scan / oscap_own:.2f} (goal <= 1.3); "
          f"whole command incl. Python start-up / oscap: {repeat_wall / oscap_own:.2f}")


if __name__ == "__main__":
    main()
