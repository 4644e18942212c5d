"""The shell steps a scan runs on a target, each one short command with quoted arguments.

Only oscap runs under sudo: the ARF it writes is readable by the scanning user
(umask 022 inside a 0700 temp dir), so fetching and cleaning need no root.

Each scan's temp dir is locked (flock) by a process that lives as long as the scan's SSH
connection: when the app is killed or the link dies, the lock goes with it, and the next scan
of the host stops that scan's oscap and removes its dir (PREPARE's sweep).
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.domain.errors import (
    CommandTimeout,
    OperatorError,
    OscapCrashed,
    OscapFailed,
    OscapMissing,
    OscapStalled,
    OutputTooLarge,
)
from core.domain.limits import size
from core.domain.models import OsInfo
from core.domain.text import one_line
from core.targets.osinfo import install_hint, parse_os_release
from core.targets.transport import CommandResult, Held, Sudo, Transport, shell_join, sudo_error

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

# Stopping a dead scan's oscap: its pid file names timeout(1), which passes TERM on through sudo.
_STOP_AND_REMOVE = (
    'p=$(cat "$1/oscap.pid" 2>/dev/null) && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = timeout ] && '
    'kill -TERM "$p" 2>/dev/null && for i in 1 2 3 4 5 6 7 8 9 10; do [ -d /proc/"$p" ] || break; sleep 0.5; done; '
    'rm -rf "$1"'
)
# The sweep: a temp dir whose lock nobody holds belongs to a scan that is gone (killed app, dead
# link). A new dir is made under another name, locked, then renamed: so the sweep never sees a
# live scan's dir unlocked. Dirs without a lock (an older version, or no flock on the host, or a
# scan killed between mktemp and the rename) go after a day, far beyond any scan.
PREPARE = r"""
umask 077
cache="${XDG_CACHE_HOME:-$HOME/.cache}/compliance-tui"
mkdir -p "$cache" || exit 10
base="${TMPDIR:-/tmp}"
flock=$(command -v flock 2>/dev/null)
stop_and_remove='""" + _STOP_AND_REMOVE + r"""'
find "$base" -maxdepth 1 -type d \( -name 'compliance-tui.*' -o -name 'compliance-tui-new.*' \) \
    -user "$(id -u)" 2>/dev/null | while IFS= read -r d; do
  if [ -n "$flock" ] && [ -f "$d/.lock" ] && [ "${d#"$base"/compliance-tui.}" != "$d" ]; then
    flock -n "$d/.lock" sh -c "$stop_and_remove" sh "$d"
  elif [ -n "$(find "$d" -maxdepth 0 -mmin +1440 2>/dev/null)" ]; then
    sh -c "$stop_and_remove" sh "$d"
  fi
done 2>/dev/null
new=$(mktemp -d "$base/compliance-tui-new.XXXXXXXX") || exit 11
tmp="$base/compliance-tui.${new##*.}"
echo "cache=$cache"
exec 2>/dev/null
if [ -n "$flock" ]; then
  : > "$new/.lock" || exit 11
  exec "$flock" -x "$new/.lock" sh -c '[ -e "$2" ] && exit 12; mv "$1" "$2" || exit 11
echo "tmp=$2"; echo ready; exec cat >/dev/null' sh "$new" "$tmp"
fi
[ -e "$tmp" ] && exit 12
mv "$new" "$tmp" || exit 11
echo "tmp=$tmp"
echo ready
exec cat >/dev/null
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
    return _probe(result.text)


def _probe(text: str) -> Probe:
    head, _, os_release = text.partition("---os-release---\n")
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
    lock: Held | None = None  # holds the temp dir's lock on the target until released

    async def release(self) -> None:
        if self.lock is not None:
            await self.lock.release()


async def prepare(transport: Transport) -> Workdir:
    """Sweep what dead scans left, then a private temp dir, locked while this scan lives."""
    return await _workdir(transport, await transport.hold(PREPARE, "ready", timeout=60))


PROBE_END = "---end-of-probe---"


async def probe_and_prepare(transport: Transport) -> tuple[Probe, "Workdir | OscapFailed"]:
    """probe() and prepare() in one round trip, a scan's first: the work dir, or why there is
    none (said once the caller has checked for oscap, the likelier fault)."""
    held = await transport.hold(f"{PROBE}echo {PROBE_END}\n{PREPARE}", "ready", timeout=60)
    text = "\n".join(held.lines)
    probed, _, prepared = text.partition(f"\n{PROBE_END}\n")
    held.lines = prepared.splitlines()
    try:
        return _probe(probed), await _workdir(transport, held)
    except OscapFailed as exc:
        return _probe(probed), exc


async def _workdir(transport: Transport, held: Held) -> Workdir:
    pairs = _pairs("\n".join(held.lines))
    if held.exit_status is not None or "tmp" not in pairs or TEMP_PREFIX not in pairs["tmp"]:
        await held.release()
        raise OscapFailed(f"{transport.host_name}: cannot create a private temp dir "
                          f"(exit {held.exit_status}); is its temp dir ($TMPDIR, else /tmp) writable and not full?")
    return Workdir(pairs["tmp"], pairs["cache"], held)


async def upload(transport: Transport, data: bytes, path: str, timeout: float) -> None:
    """Write a file through stdin, renamed into place only when complete."""
    # a unique partial file: two scans of one host may upload at the same time
    command = (f"umask 077 && t=$(mktemp {shell_join(path + '.XXXXXX')}) && "
               f"cat > \"$t\" && mv -f \"$t\" {shell_join(path)}")
    try:
        result = await transport.run(command, input=data, timeout=timeout)
    except CommandTimeout:
        raise CommandTimeout(f"{transport.host_name}: the upload of {path} ({size(len(data))}) did not finish within "
                             f"{timeout:.0f} s: the link or the host stalls ([jobs] transfer_timeout)") from None
    if result.exit_status != 0:
        raise OscapFailed(f"{transport.host_name}: upload of {path} failed: {result.stderr.strip()}")


def progress_line(text: str) -> tuple[str, str] | None:
    """(rule id, result) of a line `oscap xccdf eval --progress` prints once it is done with a
    rule; None for any other line."""
    match = PROGRESS_LINE.match(text.strip())
    return (match.group(1), match.group(2)) if match else None


NOT_CACHED = 99  # evaluate(cached=...): the datastream is not on the target (yet): upload it


def eval_command(
    sudo: Sudo, profile_id: str, datastream: str, arf: str, timeout_s: int, tailoring: str | None = None,
    pid_file: str | None = None, cached: str | None = None,
) -> tuple[str, bytes | None]:
    options = ["--tailoring-file", tailoring] if tailoring else []
    oscap = shell_join("oscap", "xccdf", "eval", *options, "--profile", profile_id, "--progress",
                       "--results-arf", arf, datastream)
    command, stdin = sudo.wrap(oscap)
    # timeout(1) on the target ends a hung oscap even when our connection is gone; its pid
    # (the shell's, kept by exec) lets a cancel stop it: timeout passes the signal on to sudo
    # and sudo to oscap, so no root is needed to stop a root oscap
    record = f"echo $$ > {shell_join(pid_file)}; " if pid_file else ""
    # the cache check rides on this command: a repeat scan saves a round trip
    check = (f"printf '%s  %s\\n' {shell_join(cached, datastream)} | sha256sum -c --status >/dev/null 2>&1 "
             f"|| exit {NOT_CACHED}; ") if cached else ""
    return f"umask 022; {check}{record}exec timeout -k 10 {int(timeout_s)} {command}", stdin


async def evaluate(
    transport: Transport, sudo: Sudo, profile_id: str, datastream: str, arf: str,
    timeout_s: int, on_rule: Callable[[str, str], Awaitable[None] | None], tailoring: str | None = None, work_dir: str | None = None,
    cached: str | None = None, stall_s: int | None = None,
) -> CommandResult:
    """Run oscap, calling on_rule(rule_id, result) for each progress line. Cancelled, past its
    time, or silent for stall_s (a hung probe), it is stopped on the target too (through
    work_dir's pid file). cached: the datastream's sha256; when the file is not that, nothing
    runs and the exit is NOT_CACHED."""
    loop = asyncio.get_running_loop()
    pid_file = f"{work_dir}/oscap.pid" if work_dir else None
    command, stdin = eval_command(sudo, profile_id, datastream, arf, timeout_s, tailoring, pid_file, cached)
    try:
        async with asyncio.timeout(stall_s) as quiet:

            def line(text: str) -> Awaitable[None] | None:
                if stall_s:
                    quiet.reschedule(loop.time() + stall_s)
                found = progress_line(text)
                return on_rule(*found) if found else None

            try:
                # timeout(1) sends KILL 10 s after TERM, so the exit status is due by timeout_s + 10;
                # later than that the link itself hangs, and there is nothing left to stop over it
                result = await transport.stream(command, line, input=stdin, timeout=timeout_s + 15)
            except asyncio.CancelledError:
                if pid_file:
                    await asyncio.shield(stop(transport, pid_file))
                raise
    except CommandTimeout:
        raise CommandTimeout(f"{transport.host_name}: no answer from the host for {timeout_s + 15} s while "
                             f"oscap ran (limit {timeout_s} s); the network or the host hangs") from None
    except TimeoutError:  # only the stall's: the stream's own is a CommandTimeout
        raise stalled(transport.host_name, stall_s or 0) from None
    if result.exit_status in (0, 2) or (cached and result.exit_status == NOT_CACHED):
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
    if 128 < result.exit_status < 128 + 65:  # timeout(1) reports a child killed by a signal so
        number = result.exit_status - 128
        raise crashed(transport.host_name, _signal_name(number), oscap_error(result.stderr),
                      fault=number in FAULT_SIGNALS)
    full = re.search(r"write error|no space left", result.stderr, re.I)  # oscap says little more
    raise OscapFailed(f"{transport.host_name}: oscap failed (exit {result.exit_status}): {oscap_error(result.stderr)}"
                      + ("; is the disk of the host's temp dir full? (df $TMPDIR)" if full else ""))


# signals of a fault in oscap itself, not of someone (or the kernel's OOM killer) stopping it
FAULT_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE})


def crashed(host: str, how: str, reason: str, fault: bool, twice: bool = False) -> OscapCrashed:
    error = OscapCrashed(f"{host}: oscap crashed {'twice ' if twice else ''}({how}): {reason}; "
                         "check the host's oscap package and its logs")
    error.host, error.how, error.reason, error.fault = host, how, reason, fault
    return error


def stalled(host: str, seconds: int, twice: bool = False) -> OscapStalled:
    error = OscapStalled(f"{host}: oscap printed no progress for {seconds} s{', twice' if twice else ''} and was "
                         "stopped (a hung probe); if a rule of this host takes that long, raise [jobs] stall_timeout")
    error.host, error.seconds = host, seconds
    return error


def _signal_name(number: int) -> str:
    try:
        return f"killed by {signal.Signals(number).name}"
    except ValueError:
        return f"killed by signal {number}"


async def stop(transport: Transport, pid_file: str) -> None:
    """Stop a running oscap: TERM to its timeout(1), which passes it on; KILL follows in 10 s."""
    quoted = shell_join(pid_file)
    try:
        await transport.run(f"[ -f {quoted} ] && kill -TERM \"$(cat {quoted})\"", timeout=15)
    except (OperatorError, OSError) as exc:  # the connection is gone: timeout(1) ends it later
        log.warning("could not stop oscap on %s: %s", transport.host_name, exc)


def oscap_error(stderr: str) -> str:
    """oscap's own reason, without the warnings it prints on every run (one neutralised line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for marker in ("OpenSCAP Error:", "E: "):
        found = [line for line in lines if marker in line]
        if found:
            return one_line(found[0], 300)
    return one_line(lines[-1] if lines else "no error output", 300)


TOO_BIG_EXIT = 3


# Split the ARF on the target (DESIGN.md, "Evidence"): the embedded datastream block, byte for
# byte the same on every scan of that datastream, is sent only when the controller lacks it.
# stdout: the rest compressed, then the block compressed when it is sent; stderr's last line
# says how. An ARF of another shape is sent whole (gzip), as before.
SPLIT = r"""
s=$(stat -c %s "$arf") || exit 1
if [ "$s" -gt "$limit" ]; then echo "size=$s" >&2; exit 3; fi
if [ ! -f "$arf" ]; then  # not what oscap writes (a pipe?): it can be read once, so stream it whole
  echo "shape=whole sha256=- size=-" >&2; exec gzip -c "$arf"
fi
whole=$(sha256sum < "$arf") || exit 1; whole=${whole%% *}
if command -v xz >/dev/null 2>&1; then z="xz -c -1"; else z="gzip -c"; fi
start=$(grep -n -m1 -x '[[:space:]]*<arf:report-requests>' "$arf" | cut -d: -f1)
end=$(grep -n -m1 -x '[[:space:]]*</arf:report-requests>' "$arf" | cut -d: -f1)
if [ -z "$start" ] || [ -z "$end" ] || [ "$end" -le "$start" ]; then
  echo "shape=whole sha256=$whole size=$s" >&2; exec gzip -c "$arf"
fi
block=$(sed -n "${start},${end}p" "$arf" | sha256sum) || exit 1; block=${block%% *}
{ head -n $((start - 1)) "$arf" && tail -n +$((end + 1)) "$arf"; } | $z > "$tmp/rest.z" || exit 1
rest=$(wc -c < "$tmp/rest.z")
case " $known " in *" $block "*) sent=0 ;; *) sent=1 ;; esac
echo "shape=split sha256=$whole size=$s block=$block head=$((start - 1)) rest=$rest sent=$sent" >&2
cat "$tmp/rest.z" || exit 1
if [ "$sent" = 1 ]; then sed -n "${start},${end}p" "$arf" | $z; fi
"""


@dataclass
class Fetched:
    """What fetch_evidence brought: the whole ARF gzipped, or its rest and maybe its block."""

    shape: str  # "whole" or "split"
    sha256: str
    size: int
    data: bytes  # whole: the gzip file; split: the rest, compressed
    block: str | None = None
    head_lines: int = 0
    block_data: bytes | None = None  # compressed; None when the controller has it


async def fetch_evidence(transport: Transport, sudo: Sudo, arf: str, tmp: str, known: list[str],
                         limit: int, timeout: float) -> Fetched:
    """The results, moving only what the controller lacks; refuses more than limit bytes."""
    setup = (f"arf={shell_join(arf)}; tmp={shell_join(tmp)}; limit={int(limit)}; "
             f"known={shell_join(' '.join(known))}\n")
    command = f"sh -c {shell_join(setup + SPLIT)}"
    try:
        result = await transport.run(command, timeout=timeout, max_output=limit)
        if result.exit_status != 0 and "Permission denied" in result.stderr:
            wrapped, stdin = sudo.wrap(command)  # a sudoers umask made the ARF root-only
            result = await transport.run(wrapped, input=stdin, timeout=timeout, max_output=limit)
    except CommandTimeout:
        raise CommandTimeout(f"{transport.host_name}: the results did not arrive within {timeout:.0f} s: the "
                             "transfer stalled, or the link is too slow for them ([jobs] transfer_timeout); "
                             "nothing was stored") from None
    except OutputTooLarge:
        raise OutputTooLarge(f"{transport.host_name}: the results are larger than {size(limit)}, more than "
                             "this profile can produce; refusing them (limits: docs/security.md)") from None
    if result.exit_status == TOO_BIG_EXIT and "size=" in result.stderr:
        found = result.stderr.rpartition("size=")[2].split()[0]
        raise OutputTooLarge(f"{transport.host_name}: oscap wrote {size(int(found)) if found.isdigit() else found} "
                             f"of results, more than this profile can produce ({size(limit)}); refusing them")
    if result.exit_status != 0:
        raise OscapFailed(f"{transport.host_name}: cannot fetch the results: {one_line(result.stderr, 200)}")
    return _fetched(transport.host_name, result.stderr, result.stdout)


def _fetched(host_name: str, stderr: str, stdout: bytes) -> Fetched:
    said = next((line for line in reversed(stderr.splitlines()) if line.startswith("shape=")), "")
    fields = _pairs(said.replace(" ", "\n"))
    try:
        whole = Fetched(fields["shape"], fields["sha256"], int(fields["size"].replace("-", "-1")), stdout)
        if whole.shape == "whole":
            return whole
        rest = int(fields["rest"])
        if whole.shape != "split" or not 0 < rest <= len(stdout):
            raise ValueError
        block_data = stdout[rest:] if fields["sent"] == "1" else None
        if fields["sent"] == "1" and not block_data:
            raise ValueError
        return Fetched("split", whole.sha256, whole.size, stdout[:rest], fields["block"],
                       int(fields["head"]), block_data)
    except (KeyError, ValueError):
        raise OscapFailed(f"{host_name}: the results arrived incomplete (the transfer was cut short "
                          "or the target's shell tools misbehaved); nothing was stored") from None


async def discard(transport: Transport, work: Workdir) -> None:
    """Remove a scan's temp dir and release its lock; with the connection gone, the next
    scan's sweep removes it."""
    try:
        await asyncio.shield(remove(transport, work.tmp))
    except (OperatorError, OSError) as exc:
        log.warning("%s: could not remove the scan's temp dir %s (%s); the host's next scan removes it",
                    transport.host_name, work.tmp, one_line(str(exc), 200))
    finally:
        await asyncio.shield(work.release())


async def remove(transport: Transport, path: str) -> None:
    if TEMP_PREFIX in path and not transport.stalled:  # only ever our own temp dirs
        await transport.run(f"rm -rf {shell_join(path)}", timeout=30)
