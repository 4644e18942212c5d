"""`compliance-tui` commands forked from a process that has imported the CLI already.

The suite runs the CLI some thousands of times; as a new interpreter each run spends about 0.2 s
of CPU importing the same modules. This server imports them once per pytest worker and forks a
child per command: a process of its own, with the test's arguments, environment, working
directory, umask, stdin, stdout and stderr, that runs `tui.entry.main` and exits with its code,
as `python -m tui` would. What only a new interpreter shows (warnings printed while importing,
which modules a command imports, interpreter options) is tested with real processes
(tests/unit/test_cli_imports.py).

    python -m tests.cli_server FD    (FD: the socket the tests send commands through)

A command: one message on that socket holding its JSON header and four descriptors (a socket
for the answer, stdin, stdout and stderr). On the answer socket the server writes the child's
pid, then its wait status once it has ended.
"""

from __future__ import annotations

import atexit
import importlib
import json
import locale
import os
import pkgutil
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from typing import IO

# what the commands import between them, imported once here (no module reads the environment when
# imported: a child's own environment is in place before anything of it runs)
PRELOAD_PACKAGES = ("tui.cli", "core")
# what a new interpreter reads once at its start: a command given other values of these runs as one
STARTUP_ENV = ("PYTHON", "LC_", "LANG")
MAX_FDS = 4


# ---- the tests' side ----------------------------------------------------------------------------

@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


class CliServer:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.env = dict(os.environ)
        self.process = subprocess.Popen([sys.executable, "-m", "tests.cli_server", str(theirs.fileno())],
                                        pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        theirs.close()
        self.socket, self.lock = ours, threading.Lock()

    def serves(self, env: dict[str, str]) -> bool:
        """Whether a child forked from here starts as a new interpreter given env would."""
        keys = {k for k in env.keys() | self.env.keys() if k.startswith(STARTUP_ENV)}
        return self.process.poll() is None and all(env.get(k) == self.env.get(k) for k in keys)

    def run(self, args: list[str], env: dict[str, str], input: str | None, timeout: float) -> Done:
        answer, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stdout, \
                tempfile.TemporaryFile() as stderr, answer:
            if input is not None:
                stdin.write(input.encode())
                stdin.seek(0)
            umask = os.umask(0)
            os.umask(umask)
            header = json.dumps({"args": args, "env": env, "cwd": os.getcwd(), "umask": umask}).encode()
            with self.lock:
                socket.send_fds(self.socket, [header], [theirs.fileno(), stdin.fileno(), stdout.fileno(),
                                                        stderr.fileno()])
            theirs.close()
            answer.settimeout(timeout)
            with answer.makefile("r") as reader:
                pid = int(reader.readline())
                try:
                    status = reader.readline()
                except TimeoutError:
                    os.kill(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired(["compliance-tui", *args], timeout) from None
            if not status:
                raise RuntimeError("the CLI server ended while a command ran")
            return Done(os.waitstatus_to_exitcode(int(status)), _text(stdout), _text(stderr))

    def stop(self) -> None:
        self.socket.close()  # the server ends when its socket does
        self.process.wait(timeout=30)


def _text(output: IO[bytes]) -> str:
    """As subprocess.run(text=True) reads it: the locale's encoding, newlines made \\n."""
    output.seek(0)
    text = output.read().decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


_shared: CliServer | None = None


def shared() -> CliServer:
    """This process's server, started at its first command and stopped when the process ends."""
    global _shared
    if _shared is None:
        _shared = CliServer()
        atexit.register(_shared.stop)
    return _shared


# ---- the server ---------------------------------------------------------------------------------

def preload() -> None:
    from tui.entry import quiet_known_warnings

    quiet_known_warnings()
    for package in PRELOAD_PACKAGES:
        for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            importlib.import_module(module.name)
    from tui.cli import build_parser

    build_parser()  # fills the caches every command's parser reads (gettext's, above all)


def serve(channel: socket.socket) -> None:
    preload()
    children: dict[int, socket.socket] = {}
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(channel, selectors.EVENT_READ)
    selector.register(wakeup_r, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is channel:
                header, fds, _, _ = socket.recv_fds(channel, 1 << 20, MAX_FDS)
                if not header:
                    return  # the tests' side has gone
                answer = socket.socket(fileno=fds[0])
                pid = _fork_command(json.loads(header), fds, channel, answer, *children.values(), wakeup_r,
                                    wakeup_w)
                answer.sendall(f"{pid}\n".encode())
                children[pid] = answer
            else:
                os.read(wakeup_r, 512)
                _reap(children)


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        answer = children.pop(pid)
        try:
            answer.sendall(f"{status}\n".encode())
        except OSError:
            pass  # the test gave up on it (a timeout)
        answer.close()


def _fork_command(command: dict, fds: list[int], *server_fds) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        for fd in fds[1:]:
            os.close(fd)
        return pid
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for held in server_fds:
            held.close() if isinstance(held, socket.socket) else os.close(held)
        for target, fd in zip((0, 1, 2), fds[1:]):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(command["env"])
        os.chdir(command["cwd"])
        os.umask(command["umask"])
        sys.argv = ["compliance-tui", *command["args"]]
        code = _run(command["args"])
    except BaseException:
        traceback.print_exc()
        code = 1
    os._exit(code)


def _run(args: list[str]) -> int:
    """tui.entry.main(args), ended as the interpreter ends `python -m tui`."""
    from tui.entry import main

    try:
        code = main(args)
    except SystemExit as exit:
        code = exit.code
    except BaseException:
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # what ending the interpreter waits for
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    _channel = socket.socket(fileno=int(sys.argv[1]))
    serve(_channel)
