"""What the figures were measured on: CPUs, RAM, OpenSCAP, SSG and Python."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    return int(match.group(1)) / 1024 / 1024 if match else 0.0


def _oscap() -> str:
    done = subprocess.run(["oscap", "--version"], capture_output=True, text=True)
    return done.stdout.splitlines()[0].rsplit(" ", 1)[-1] if done.returncode == 0 else "missing"


def _ssg() -> str:
    """The version of Debian's packaged SSG (what the wire and fleet figures scan with)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "ssg-debderived"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def _newer_ssg() -> str:
    """Newer SSG releases unpacked under $COMPLIANCE_TUI_CONTENT_DIRS (make content puts them there)."""
    found = []
    for directory in filter(None, os.environ.get("COMPLIANCE_TUI_CONTENT_DIRS", "").split(":")):
        found += sorted(p.name for p in Path(directory).iterdir() if p.is_dir()) if Path(directory).is_dir() else []
    return ", ".join(found) or "none"


def _os() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.system()


def describe() -> dict[str, str]:
    return {
        "CPUs": str(os.cpu_count()),
        "CPU model": _cpu_model(),
        "RAM": f"{_ram_gb():.1f} GiB",
        "OS": f"{_os()}, kernel {platform.release()}",
        "OpenSCAP": _oscap(),
        "SSG (ssg-debderived)": _ssg(),
        "newer SSG content (COMPLIANCE_TUI_CONTENT_DIRS)": _newer_ssg(),
        "Python": platform.python_version(),
    }
