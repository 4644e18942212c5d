"""A stand-in oscap for played hosts: it replays one real run's progress lines and ARF at once.

Recorded once from the real oscap on a played host, so what the controller receives (the
progress stream, the ARF's bytes) is exactly what a real scan sends; only the evaluation's
time is gone, which leaves the controller's own cost to measure. Every other oscap call
(the probe's `oscap --version`) goes to the real binary.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.fleet.hosts import FleetHost
from tests.oscap_results import CIS_L1_SERVER, datastream


def record(host: FleetHost, into: Path) -> tuple[Path, Path]:
    """One real CIS L1 evaluation on host: (its stdout with the progress lines, its ARF)."""
    into.mkdir(parents=True, exist_ok=True)
    arf = host.root / "tmp" / "recorded-arf.xml"
    done = host.run_inside(["oscap", "xccdf", "eval", "--profile", CIS_L1_SERVER, "--progress",
                            "--results-arf", str(arf), str(datastream("ubuntu2204"))])
    if done.returncode not in (0, 2):
        raise RuntimeError(f"recording oscap failed: {done.stderr[-500:]}")
    progress = into / "progress.txt"
    progress.write_bytes(done.stdout)
    kept = into / "arf.xml"
    arf.replace(kept)
    kept.chmod(0o644)
    into.chmod(0o755)
    return progress, kept


def install(host: FleetHost, progress: Path, arf: Path) -> None:
    """Overwrite host's oscap wrapper in place (its bind mount follows the inode) with the stand-in."""
    q = shlex.quote
    (host.root / "oscap-wrapper").write_text(
        "#!/bin/sh\n"
        "# stand-in: replay a recorded evaluation (see tests/bench/standin.py)\n"
        'if [ "$1 $2" != "xccdf eval" ]; then\n'
        f'  OSCAP_PROBE_ROOT={q(str(host.root))} exec {q(str(host.root / "oscap.real"))} "$@"\n'
        "fi\n"
        "arf=\n"
        'while [ $# -gt 0 ]; do [ "$1" = --results-arf ] && arf=$2; shift; done\n'
        f"cat {q(str(progress))}\n"
        f'cp {q(str(arf))} "$arf"\n'
        "exit 2\n")
