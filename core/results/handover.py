"""Handing a written file to the operator: a browser where one can show it, else the scp
command that copies it from this server."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

_browsers: list[subprocess.Popen[bytes]] = []  # started, never waited for; reaped once they end


def open_in_browser(path: Path) -> bool:
    """Open the report in a browser when one is plausible here; never waits for it."""
    command = _browser_command(Path(path).resolve())
    if command is None:
        return False
    try:
        started = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return False
    _browsers[:] = [p for p in _browsers if p.poll() is None] + [started]
    return True


def _browser_command(path: Path) -> list[str] | None:
    browser = os.environ.get("BROWSER", "").split(":")[0].strip()
    if browser:
        words = shlex.split(browser)
        if words and shutil.which(words[0]):
            target = str(path)
            return [w.replace("%s", target) for w in words] if "%s" in browser else [*words, target]
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None  # over plain SSH nothing could show it
    opener = shutil.which("xdg-open")
    return [opener, str(path)] if opener else None


def copy_hint(path: Path) -> str:
    """The command that copies the file from this server to the operator's machine."""
    name = socket.getfqdn()
    if name == "localhost" or name.startswith("localhost."):
        name = socket.gethostname()  # /etc/hosts maps this machine to localhost first
    remote = f"{getpass.getuser()}@{name}:{Path(path).resolve()}"
    return f"scp {shlex.quote(remote)} ."
