"""Start-up of the CLI (issue 25, item 1): `--help` and `hosts list` as whole processes, the
way a shell runs them, beside a bare `python -c pass` timed in the same rounds.

Bytecode is compiled once first, as an install leaves it: the environment may forbid writing
it beside the sources (PYTHONDONTWRITEBYTECODE), so it goes to a private PYTHONPYCACHEPREFIX.
A context figure shows `--help` with this project's modules compiled on every run, as such an
environment runs a source tree.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.report import Figure

SECTION = "start"
ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("web1", "web2", "db1")


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one whole process, from fork to exit."""
    begin = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - begin


def commands(data_dir: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "tui", "--data-dir", str(data_dir)]
    return {"bare": [sys.executable, "-c", "pass"], "help": [*cli, "--help"], "list": [*cli, "hosts", "list"]}


def medians(data_dir: Path, env: dict[str, str], rounds: int) -> dict[str, float]:
    """Each command once per round, interleaved: a burst of load slows all of them alike."""
    argvs = commands(data_dir)
    for argv in argvs.values():  # warm-up: bytecode written, files in the page cache
        timed(argv, env)
    runs: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(rounds):
        for name, argv in argvs.items():
            runs[name].append(timed(argv, env))
    return {name: statistics.median(times) for name, times in runs.items()}


def measure(quick: bool) -> tuple[list[Figure], list[str]]:
    rounds = 7 if quick else 31
    with tempfile.TemporaryDirectory(prefix="bench-start.") as tmp:
        base = Path(tmp)
        data_dir, home = base / "data", base / "home"
        home.mkdir()
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env |= {"COMPLIANCE_TUI_HOME": str(data_dir), "HOME": str(home), "PYTHONPYCACHEPREFIX": str(base / "pyc")}
        for name in HOSTS:
            subprocess.run([sys.executable, "-m", "tui", "hosts", "add", name, "--address", "192.0.2.10"],
                           cwd=ROOT, env=env, capture_output=True, check=True)
        found = medians(data_dir, env, rounds)
        uncached = {key: value for key, value in env.items() if key != "PYTHONPYCACHEPREFIX"}
        compiling = medians(data_dir, uncached | {"PYTHONDONTWRITEBYTECODE": "1"}, max(3, rounds // 3))
    bare = f"a bare `python -c pass` took {found['bare']:.3f} s in the same rounds"
    figures = [
        Figure(SECTION, "`compliance-tui --help`, whole process", found["help"], "s", 0.15, runs=rounds,
               method=f"`python -m tui --help`, fork to exit, median of {rounds} rounds; {bare}.",
               limit="Python's own start, then argparse, logging, platformdirs and core.domain.models: "
                     "the parser states the scan statuses, the grace and the export formats."),
        Figure(SECTION, f"`compliance-tui hosts list` ({len(HOSTS) + 1} hosts), whole process", found["list"], "s",
               0.25, runs=rounds,
               method=f"`python -m tui hosts list` on a SQLite data dir of {len(HOSTS)} hosts and localhost, "
                      f"median of {rounds} rounds; {bare}.",
               limit="asyncio, the SQLite store (aiosqlite) and the content catalog (lxml) that opening a "
                     "Workspace loads, then its checks: private modes, expired leases, localhost."),
        Figure(SECTION, "bare `python -c pass`", found["bare"], "s", op="", runs=rounds,
               method="the interpreter's own start with this venv's site-packages, for context."),
        Figure(SECTION, "`--help`, this project's bytecode not cached", compiling["help"], "s", op="",
               runs=max(3, rounds // 3),
               method="as above with PYTHONDONTWRITEBYTECODE=1: the standard library's and site-packages' "
                      "bytecode as installed, this project's sources compiled on every run, as an environment "
                      "that forbids writing bytecode runs a source tree; for context."),
    ]
    return figures, []
