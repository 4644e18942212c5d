"""Running commands on a host: the shared part of the SSH and local transports.

Commands are shell strings built only with `shell_join`, so every argument is
quoted. Secrets travel on stdin, never in a command line.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Awaitable, Callable

from core.domain.errors import CommandTimeout, OperatorError, SudoNeedsPassword

LineHandler = Callable[[str], Awaitable[None] | None]


def shell_join(*args: str) -> str:
    return " ".join(shlex.quote(str(a)) for a in args)


@dataclass
class CommandResult:
    exit_status: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


@dataclass
class Sudo:
    """How to become root on a host: not at all (already root), `-n`, or a password on stdin."""

    needed: bool = True
    password: str | None = None

    def wrap(self, command: str) -> tuple[str, bytes | None]:
        if not self.needed:
            return command, None
        if self.password is None:
            return f"sudo -n {command}", None
        return f"sudo -S -p '' {command}", (self.password + "\n").encode()


def sudo_error(host: str, stderr: str) -> OperatorError | None:
    """Recognise sudo refusing to run, so the operator learns why in one line."""
    if "a password is required" in stderr or "a terminal is required" in stderr:
        return SudoNeedsPassword(
            f"{host}: sudo needs a password; allow NOPASSWD for oscap in sudoers, "
            "or name an environment variable holding it (hosts add --sudo-password-env VAR)"
        )
    if "incorrect password" in stderr:
        return SudoNeedsPassword(f"{host}: sudo rejected the password from the host's sudo password variable")
    if "is not in the sudoers file" in stderr or "is not allowed to execute" in stderr:
        return SudoNeedsPassword(f"{host}: the user may not run oscap with sudo; add a sudoers rule")
    return None


class Transport(ABC):
    """A connection to one host that runs shell commands."""

    def __init__(self, host_name: str):
        self.host_name = host_name

    async def run(self, command: str, *, input: bytes | None = None, timeout: float = 60) -> CommandResult:
        return await self.stream(command, None, input=input, timeout=timeout)

    async def stream(
        self, command: str, on_line: LineHandler | None, *,
        input: bytes | None = None, timeout: float = 60,
    ) -> CommandResult:
        """Run a command; with on_line, hand each stdout line over as it arrives."""
        try:
            return await asyncio.wait_for(self._execute(command, on_line, input), timeout)
        except TimeoutError:
            raise CommandTimeout(
                f"{self.host_name}: command did not finish within {timeout:.0f} s"
            ) from None

    async def _execute(self, command: str, on_line: LineHandler | None, input: bytes | None) -> CommandResult:
        process = await self._start(command)
        try:
            if input:
                process.stdin.write(input)
            process.stdin.write_eof()
            stderr_task = asyncio.ensure_future(process.stderr.read())
            chunks: list[bytes] = []
            if on_line is None:
                chunks.append(await process.stdout.read())
            else:
                while line := await process.stdout.readline():
                    outcome = on_line(line.decode("utf-8", "replace").rstrip("\n"))
                    if outcome is not None:
                        await outcome
            stderr = await stderr_task
            status = await self._wait(process)
        except BaseException:
            await self._abort(process)
            raise
        return CommandResult(status, b"".join(chunks), stderr.decode("utf-8", "replace"))

    @abstractmethod
    async def _start(self, command: str): ...

    @abstractmethod
    async def _wait(self, process) -> int: ...

    @abstractmethod
    async def _abort(self, process) -> None: ...

    async def close(self) -> None:
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class LocalTransport(Transport):
    """The machine the app runs on: no SSH set-up needed for a first scan."""

    async def _start(self, command: str):
        # setpriv's parent-death signal: a killed app takes its commands with it (TERM, which
        # timeout(1) passes on through sudo to a root oscap), instead of an oscap that runs on
        # for an hour. setpriv is util-linux, on every Debian and RHEL; without it, plain sh.
        guard = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
        return await asyncio.create_subprocess_exec(
            *guard, "/bin/sh", "-c", command,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
        )

    async def _wait(self, process) -> int:
        return await process.wait()

    async def _abort(self, process) -> None:
        """TERM first: timeout(1) passes it on through sudo to a root oscap, which this user
        could not kill itself; KILL what is left after a few seconds."""
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
            if process.returncode is not None:
                return
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                continue
