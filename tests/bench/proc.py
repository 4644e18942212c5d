"""Whole processes, measured: wall time, CPU (user + system) and peak RSS of one child.

os.wait4 gives the CPU of exactly that child (and of its own children it waited for), which is
what the controller costs. Its ru_maxrss is not used: on Linux a child spawned from a big
parent inherits the parent's high-water mark at exec, so the peak is the child's own VmHWM,
read from /proc every 20 ms until it exits (it only ever grows).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
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
        peak = [0.0]
        watcher = threading.Thread(target=_watch_peak, args=(process.pid, peak), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        watcher.join()
        wall = time.perf_counter() - begin
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(wall, usage.ru_utime + usage.ru_stime, peak[0], process.returncode,
                  out.read().decode(errors="replace"), err.read().decode(errors="replace"), started, time.time())
    if check and run.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} … exit {run.returncode}: {run.stderr[-2000:]}{run.stdout[-500:]}")
    return run


def _watch_peak(pid: int, peak: list[float]) -> None:
    """The child's VmHWM (MiB) until its /proc entry is gone or a zombie (VmHWM then vanishes)."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        match = re.search(r"VmHWM:\s+(\d+) kB", text)
        if not match:
            return
        peak[0] = max(peak[0], int(match.group(1)) / 1024)
        time.sleep(0.02)


def cli(env: dict, *args: str, check: bool = True) -> Run:
    return measured([*CLI, *args], env, check)
