"""The shell steps a scan runs on a target, each one short command with quoted arguments.

Only oscap runs under sudo: the ARF it writes is readable by the scanning user
(umask 022 inside a 0700 temp dir), so fetching and cleaning need no root.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from core.domain.errors import CommandTimeout, OperatorError, OscapFailed, OscapMissing
from core.domain.models import OsInfo
from core.targets.osinfo import install_hint, parse_os_release
from core.targets.transport import CommandResult, Sudo, Transport, shell_join, sudo_error

log = logging.getLogger(__name__)
PROGRESS_LINE = re.compile(r"^(xccdf_\S+):(\w+)$")
TIMEOUT_EXITS = (124, 137)  # timeout(1): stopped with TERM, or with KILL after -k
TEMP_PREFIX = "compliance-tui."

PROBE = r"""
echo "uid=$(id -u)"
if p=$(command -v oscap 2>/dev/null) && [ -f "$p" ] && [ -x "$p" ]; then echo "oscap=$p"; echo "oscap_version=$(oscap --version 2>/dev/null | head -n 1)"; fi
echo "---os-release---"
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release
"""

# Stale temp dirs are those of scans whose connection died; a day is far beyond any scan.
PREPARE = r"""
umask 077
cache="${XDG_CACHE_HOME:-$HOME/.cache}/compliance-tui"
mkdir -p "$cache" || exit 10
find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'compliance-tui.*' -user "$(id -u)" -mmin +1440 -exec rm -rf {} + 2>/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/compliance-tui.XXXXXXXX") || exit 11
echo "tmp=$tmp"
echo "cache=$cache"
"""


@dataclass
class Probe:
    uid: int
    os: OsInfo | None
    oscap_path: str | None
    oscap_version: str | None

    @property
    def is_root(self) -> bool:
        return self.uid == 0


def _pairs(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


async def probe(transport: Transport, timeout: float = 30) -> Probe:
    """Who we are, where oscap is, and which OS the host runs: one round trip."""
    result = await transport.run(PROBE, timeout=timeout)
    head, _, os_release = result.text.partition("---os-release---\n")
    pairs = _pairs(head)
    try:
        os_info = parse_os_release(os_release)
    except ValueError:
        os_info = None
    return Probe(int(pairs.get("uid", "-1")), os_info, pairs.get("oscap"), pairs.get("oscap_version"))


def require_oscap(host_name: str, found: Probe) -> None:
    if found.oscap_path:
        return
    where = found.os.pretty_name if found.os else "this host"
    hint = install_hint(found.os) if found.os else "install the OpenSCAP scanner package"
    raise OscapMissing(f"{host_name}: oscap is not installed on {where}; {hint}")


@dataclass
class Workdir:
    tmp: str
    cache: str


async def prepare(transport: Transport) -> Workdir:
    result = await transport.run(PREPARE, timeout=60)
    pairs = _pairs(result.text)
    if result.exit_status != 0 or "tmp" not in pairs:
        raise OscapFailed(
            f"{transport.host_name}: cannot create a private temp dir: {result.stderr.strip() or result.exit_status}"
        )
    return Workdir(pairs["tmp"], pairs["cache"])


async def is_cached(transport: Transport, path: str, sha256: str) -> bool:
    check = f"printf '%s  %s\\n' {shell_join(sha256, path)} | sha256sum -c --status"
    result = await transport.run(f"[ -f {shell_join(path)} ] && {check}", timeout=120)
    return result.exit_status == 0


async def upload(transport: Transport, data: bytes, path: str, timeout: float) -> None:
    """Write a file through stdin, renamed into place only when complete."""
    # a unique partial file: two scans of one host may upload at the same time
    command = (f"umask 077 && t=$(mktemp {shell_join(path + '.XXXXXX')}) && "
               f"cat > \"$t\" && mv -f \"$t\" {shell_join(path)}")
    result = await transport.run(command, input=data, timeout=timeout)
    if result.exit_status != 0:
        raise OscapFailed(f"{transport.host_name}: upload of {path} failed: {result.stderr.strip()}")


def eval_command(
    sudo: Sudo, profile_id: str, datastream: str, arf: str, timeout_s: int, tailoring: str | None = None,
    pid_file: str | None = None,
) -> tuple[str, bytes | None]:
    options = ["--tailoring-file", tailoring] if tailoring else []
    oscap = shell_join("oscap", "xccdf", "eval", *options, "--profile", profile_id, "--progress",
                       "--results-arf", arf, datastream)
    command, stdin = sudo.wrap(oscap)
    # timeout(1) on the target ends a hung oscap even when our connection is gone; its pid
    # (the shell's, kept by exec) lets a cancel stop it: timeout passes the signal on to sudo
    # and sudo to oscap, so no root is needed to stop a root oscap
    record = f"echo $$ > {shell_join(pid_file)}; " if pid_file else ""
    return f"umask 022; {record}exec timeout -k 10 {int(timeout_s)} {command}", stdin


async def evaluate(
    transport: Transport, sudo: Sudo, profile_id: str, datastream: str, arf: str,
    timeout_s: int, on_rule, tailoring: str | None = None, work_dir: str | None = None,
) -> CommandResult:
    """Run oscap, calling on_rule(rule_id, result) for each progress line. Cancelled, or past
    its time, it is stopped on the target too (through work_dir's pid file)."""

    def line(text: str):
        match = PROGRESS_LINE.match(text.strip())
        if match:
            return on_rule(match.group(1), match.group(2))
        return None

    pid_file = f"{work_dir}/oscap.pid" if work_dir else None
    command, stdin = eval_command(sudo, profile_id, datastream, arf, timeout_s, tailoring, pid_file)
    try:
        result = await transport.stream(command, line, input=stdin, timeout=timeout_s + 30)
    except (asyncio.CancelledError, CommandTimeout):
        if pid_file:
            await asyncio.shield(stop(transport, pid_file))
        raise
    if result.exit_status in (0, 2):
        return result
    if result.exit_status in TIMEOUT_EXITS:
        raise CommandTimeout(
            f"{transport.host_name}: oscap did not finish within {timeout_s} s and was stopped; "
            "raise the scan timeout or check the host for a hung probe"
        )
    refusal = sudo_error(transport.host_name, result.stderr)
    if refusal:
        raise refusal
    if "oscap: command not found" in result.stderr:
        raise OscapMissing(f"{transport.host_name}: sudo cannot find oscap in its secure_path; "
                           "install openscap-scanner or add its directory to secure_path")
    raise OscapFailed(f"{transport.host_name}: oscap failed (exit {result.exit_status}): {oscap_error(result.stderr)}")


async def stop(transport: Transport, pid_file: str) -> None:
    """Stop a running oscap: TERM to its timeout(1), which passes it on; KILL follows in 10 s."""
    quoted = shell_join(pid_file)
    try:
        await transport.run(f"[ -f {quoted} ] && kill -TERM \"$(cat {quoted})\"", timeout=15)
    except (OperatorError, OSError) as exc:  # the connection is gone: timeout(1) ends it later
        log.warning("could not stop oscap on %s: %s", transport.host_name, exc)


def oscap_error(stderr: str) -> str:
    """oscap's own reason, without the warnings it prints on every run."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for marker in ("OpenSCAP Error:", "E: "):
        found = [line for line in lines if marker in line]
        if found:
            return found[0][:300]
    return (lines[-1] if lines else "no error output")[:300]


async def fetch_compressed(transport: Transport, sudo: Sudo, path: str, timeout: float) -> bytes:
    """The file gzip-compressed on the target (about 15x smaller for an ARF)."""
    command = shell_join("gzip", "-c", path)
    result = await transport.run(command, timeout=timeout)
    if result.exit_status != 0 and "Permission denied" in result.stderr:
        wrapped, stdin = sudo.wrap(command)  # a sudoers umask made the ARF root-only
        result = await transport.run(wrapped, input=stdin, timeout=timeout)
    if result.exit_status != 0:
        raise OscapFailed(f"{transport.host_name}: cannot fetch the results: {result.stderr.strip()[:200]}")
    return result.stdout


async def remove(transport: Transport, path: str) -> None:
    if TEMP_PREFIX in path:  # only ever our own temp dirs
        await transport.run(f"rm -rf {shell_join(path)}", timeout=60)
