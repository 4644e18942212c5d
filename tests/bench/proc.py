"""Whole processes, measured: wall time, CPU (user + system) and peak RSS of one child.

os.wait4 gives the rusage of exactly that child (and of its own children it waited for),
which is what the controller costs; nothing else on the machine is counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = Path(sys.executable).parent / "compliance-tui"  # the console script pip installed
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "tui"]


@dataclass
class Run:
    wall: float
    cpu: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    started: float  # time.time() at spawn
    ended: float

    def json(self):
        return json.loads(self.stdout)


def measured(command: list[str], env: dict | None = None, check: bool = True, cwd: str | None = None) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started, begin = time.time(), time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - begin
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode,
                  out.read().decode(errors="replace"), err.read().decode(errors="replace"), started, time.time())
    if check and run.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} … exit {run.returncode}: {run.stderr[-2000:]}{run.stdout[-500:]}")
    return run


def cli(env: dict, *args: str, check: bool = True) -> Run:
    return measured([*CLI, *args], env, check)
