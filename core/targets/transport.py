"""Running commands on a host: the shared part of the SSH and local transports.

Commands are shell strings built only with `shell_join`, so every argument is
quoted. Secrets travel on stdin, never in a command line. What a target sends back is
bounded: the tail of stderr, lines of at most limits.line_bytes, stdout up to a cap (or
streamed into a file), so a hostile host cannot fill the jump host's memory.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Awaitable, BinaryIO, Callable, Protocol, Self

from core.domain import limits as limits_
from core.domain.errors import CommandTimeout, OperatorError, OutputTooLarge, SudoNeedsPassword

LineHandler = Callable[[str], Awaitable[None] | None]
CHUNK = 64 * 1024
# A running command: asyncio's subprocess.Process here, asyncssh's SSHClientProcess over SSH
Process = Any


class ByteReader(Protocol):
    """A command's stdout or stderr: asyncio's StreamReader, asyncssh's SSHReader."""

    async def read(self, n: int = -1) -> bytes: ...


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

    def __init__(self, host_name: str) -> None:
        self.host_name = host_name
        self.stalled = False  # a command outlived its deadline: the link may hang; say little more

    async def run(self, command: str, *, input: bytes | None = None, timeout: float = 60,
                  sink: BinaryIO | None = None, max_output: int | None = None) -> CommandResult:
        """Run a command; its stdout is returned, or written to sink, up to max_output bytes."""
        return await self.stream(command, None, input=input, timeout=timeout, sink=sink,
                                 max_output=max_output)

    async def stream(
        self, command: str, on_line: LineHandler | None, *,
        input: bytes | None = None, timeout: float = 60,
        sink: BinaryIO | None = None, max_output: int | None = None,
    ) -> CommandResult:
        """Run a command; with on_line, hand each stdout line over as it arrives."""
        try:
            return await asyncio.wait_for(self._execute(command, on_line, input, sink, max_output), timeout)
        except TimeoutError:
            self.stalled = True
            raise CommandTimeout(
                f"{self.host_name}: command did not finish within {timeout:.0f} s"
            ) from None

    async def _execute(self, command: str, on_line: LineHandler | None, input: bytes | None,
                       sink: BinaryIO | None = None, max_output: int | None = None) -> CommandResult:
        limits = limits_.current()
        process = await self._start(command)
        stderr_task = None
        try:
            try:
                if input:
                    process.stdin.write(input)
                process.stdin.write_eof()
            except BrokenPipeError:  # it ended before taking its input (sudo refusing): its output says why
                pass
            stderr_task = asyncio.ensure_future(read_tail(process.stderr, limits.stderr_tail))
            if on_line is None:
                stdout = await self._collect(process.stdout, sink, max_output or limits.command_output)
            else:
                stdout = b""
                await read_lines(process.stdout, on_line, limits.line_bytes)
            stderr = await stderr_task
            status = await self._wait(process)
        except BaseException:
            if stderr_task is not None:
                stderr_task.cancel()
            await self._abort(process)
            raise
        return CommandResult(status, stdout, stderr.decode("utf-8", "replace"))

    async def _collect(self, stream: ByteReader, sink: BinaryIO | None, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while block := await stream.read(CHUNK):
            total += len(block)
            if total > limit:
                raise OutputTooLarge(f"{self.host_name}: sent more than {limits_.size(limit)}; refusing the rest")
            if sink is not None:
                sink.write(block)
            else:
                chunks.append(block)
        return b"".join(chunks)

    async def hold(self, command: str, ready: str, timeout: float = 60) -> "Held":
        """Start a command that keeps running (e.g. holding a lock on the target) until
        released; returns once it printed the line `ready`, or ended before that."""
        process = await self._start(command)
        buffer = bytearray()
        marker = ready.encode() + b"\n"
        try:
            async with asyncio.timeout(timeout):
                while marker not in buffer and len(buffer) < CHUNK:
                    block = await process.stdout.read(CHUNK)
                    if not block:
                        break
                    buffer += block
        except BaseException:
            await self._abort(process)
            raise
        lines = buffer.decode("utf-8", "replace").splitlines()
        if ready in lines:
            return Held(self, process, lines[:lines.index(ready)], None)
        try:
            status = await asyncio.wait_for(self._wait(process), 10)
        except (TimeoutError, OperatorError):
            status = -1
        await self._abort(process)
        return Held(self, process, lines, status)

    @abstractmethod
    async def _start(self, command: str) -> Process: ...

    @abstractmethod
    async def _wait(self, process: Process) -> int: ...

    @abstractmethod
    async def _abort(self, process: Process) -> None: ...

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Held:
    """A command left running on the target; released by closing its stdin."""

    def __init__(self, transport: Transport, process: Process, lines: list[str], exit_status: int | None) -> None:
        self.transport, self.process = transport, process
        self.lines, self.exit_status = lines, exit_status  # exit_status: it ended early

    async def release(self) -> None:
        if self.exit_status is not None:
            return
        self.exit_status = -1
        try:
            if not self.transport.stalled:
                self.process.stdin.write_eof()
                await asyncio.wait_for(self.transport._wait(self.process), 10)
        except (TimeoutError, OperatorError, OSError, ConnectionError):
            pass  # the target sees the connection go and drops it there
        finally:
            await self.transport._abort(self.process)


async def read_tail(stream: ByteReader, keep: int) -> bytes:
    """All of a stream, keeping only its last `keep` bytes (and saying how much went)."""
    tail = bytearray()
    dropped = 0
    while block := await stream.read(CHUNK):
        tail += block
        if len(tail) > keep:
            dropped += len(tail) - keep
            del tail[:len(tail) - keep]
    if dropped:
        return f"[... {dropped:,} bytes left out ...]\n".encode() + bytes(tail)
    return bytes(tail)


async def read_lines(stream: ByteReader, on_line: LineHandler, max_line: int) -> None:
    """Hand over each line as it arrives; a line longer than max_line is dropped whole."""
    buffer = bytearray()
    skipping = False  # inside an over-long line: drop until its newline
    while block := await stream.read(CHUNK):
        buffer += block
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            if skipping:
                skipping = False
            elif len(line) <= max_line:
                await _deliver(on_line, line)
        if len(buffer) > max_line:
            buffer.clear()
            skipping = True
    if buffer and not skipping and len(buffer) <= max_line:
        await _deliver(on_line, bytes(buffer))


async def _deliver(on_line: LineHandler, line: bytes) -> None:
    outcome = on_line(line.decode("utf-8", "replace").rstrip("\r"))
    if outcome is not None:
        await outcome


class LocalTransport(Transport):
    """The machine the app runs on: no SSH set-up needed for a first scan."""

    async def _start(self, command: str) -> asyncio.subprocess.Process:
        # setpriv's parent-death signal: a killed app takes its commands with it (TERM, which
        # timeout(1) passes on through sudo to a root oscap), instead of an oscap that runs on
        # for an hour. setpriv is util-linux, on every Debian and RHEL; without it, plain sh.
        guard = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
        return await asyncio.create_subprocess_exec(
            *guard, "/bin/sh", "-c", command,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
        )

    async def _wait(self, process: asyncio.subprocess.Process) -> int:
        status = await process.wait()
        return 128 - status if status < 0 else status  # killed by signal N: 128 + N, as a shell says

    async def _abort(self, process: asyncio.subprocess.Process) -> None:
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
