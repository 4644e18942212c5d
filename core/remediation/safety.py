"""What keeps a hardening job from locking anyone out: the steps it runs on the target.

Before any fix: /etc is archived (owners, modes, ACLs) with the list of its paths and of the
installed packages, into a root-only directory named after the job, and a restore script is
written beside it. A dead man's switch then watches a heartbeat file: the job touches it
after every fix, and when GRACE seconds pass without a touch (the connection died, the app
was killed) the switch restores /etc on its own. It runs under systemd-run when systemd is
PID 1, else under at, else as a detached setsid process (which systemd-logind may kill at
logout: the last resort). Every path is explicit: a played host's /etc is a bind mount, and
a restore must never guess where it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from core.domain.errors import OperatorError
from core.domain.text import one_line
from core.remediation.grace import DEFAULT_GRACE as DEFAULT_GRACE  # re-exported: part of this API
from core.remediation.grace import MAX_GRACE as MAX_GRACE
from core.remediation.grace import check_grace as check_grace
from core.targets.transport import CommandResult, Sudo, Transport, shell_join

ROLLBACK_DIR = "/var/lib/compliance-tui/rollback"
SWITCHES = ("systemd-run", "at", "setsid")


CAPABILITIES = r"""
[ -d /run/systemd/system ] && p=$(command -v systemd-run 2>/dev/null) && [ -x "$p" ] && echo switch=systemd-run
p=$(command -v at 2>/dev/null) && [ -x "$p" ] && atq >/dev/null 2>&1 && echo switch=at
p=$(command -v setsid 2>/dev/null) && [ -x "$p" ] && echo switch=setsid
tar --help 2>/dev/null | grep -q -- '--acls' && echo tar_acls=1
command -v dpkg-query >/dev/null 2>&1 && echo packages=dpkg
command -v rpm >/dev/null 2>&1 && echo packages=rpm
exit 0
"""

# Files of /etc that differ from the archive, one "KIND<tab>PATH" line each: changed, deleted
# (in the archive, gone now) or new (not in it). A mere change of mtime is no change.
CHANGED = r"""
{ tar $opts -dzf "$d/etc.tar.gz" -C / etc 2>&1 | sed -n -e '/: Mod time differs$/d' \
    -e 's/^tar: \(etc\/[^:]*\): Warning: Cannot stat.*/deleted\t\/\1/p' -e 's/^\(etc\/[^:]*\): .*/changed\t\/\1/p'
  find /etc -xdev -print 2>/dev/null | LC_ALL=C sort | LC_ALL=C comm -13 "$d/etc.before" - | sed 's/^/new\t/'
} | LC_ALL=C sort -u -t "$(printf '\t')" -k2,2
"""

SNAPSHOT = r"""
set -e
umask 077
d=$1; opts=$2
mkdir -p "$d"
chmod 700 "$d" "$(dirname "$d")"
tar $opts --one-file-system -cpzf "$d/etc.tar.gz" -C / etc
find /etc -xdev -print 2>/dev/null | LC_ALL=C sort > "$d/etc.before"
{ dpkg-query -W -f='${Package}\n' 2>/dev/null || rpm -qa --qf '%{NAME}\n' 2>/dev/null || true; } \
  | LC_ALL=C sort > "$d/packages.before"
cat > "$d/changed.sh" <<CHANGED
d='$d'; opts='$opts'
CHANGED
cat >> "$d/changed.sh" <<'CHANGED'
""" + CHANGED.strip("\n") + r"""
CHANGED
cat > "$d/restore.sh" <<RESTORE
#!/bin/sh
# compliance-tui: put /etc back as it was before this hardening job. The switch runs it once;
# "force" (an explicit restore) always restores, whatever markers exist.
d='$d'
[ "\$1" = force ] || [ ! -f "\$d/restored" ] || exit 0
cd / || exit 1
sh "\$d/changed.sh" > "\$d/restored-files" 2>/dev/null
tar $opts -xpzf "\$d/etc.tar.gz" -C / etc || exit 2
find /etc -xdev -print 2>/dev/null | LC_ALL=C sort > "\$d/etc.now"
LC_ALL=C comm -13 "\$d/etc.before" "\$d/etc.now" | while IFS= read -r p; do
  case "\$p" in /etc/?*) rm -rf -- "\$p" ;; esac
done
if [ -d /run/systemd/system ]; then systemctl try-reload-or-restart ssh sshd >/dev/null 2>&1; fi
date -u +%Y-%m-%dT%H:%M:%SZ > "\$d/restored"
RESTORE
cat > "$d/watch.sh" <<WATCH
#!/bin/sh
# compliance-tui dead man's switch: restore /etc when the job stops touching its heartbeat
d='$d'; grace=\$1
echo \$\$ > "\$d/watch.pid"
while [ ! -f "\$d/disarmed" ]; do
  beat=\$(stat -c %Y "\$d/heartbeat" 2>/dev/null || echo 0)
  if [ \$((\$(date +%s) - beat)) -ge "\$grace" ]; then
    echo "no heartbeat for \$grace s, the last at \$(date -u -d @\$beat +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo \$beat)" \
      > "\$d/fired"
    sh "\$d/restore.sh"; break
  fi
  sleep 1
done
rm -f "\$d/watch.pid"
WATCH
touch "$d/heartbeat"
"""

ARM = {
    "systemd-run": 'systemd-run --quiet --collect --unit="$3" /bin/sh "$1/watch.sh" "$2"',
    "at": 'echo "sh \'$1/watch.sh\' \'$2\'" | at now 2>&1 | sed -n "s/^job \\([0-9]*\\) .*/\\1/p" > "$1/at.job"',
    "setsid": 'setsid sh "$1/watch.sh" "$2" </dev/null >/dev/null 2>&1 &',
}

DISARM = r"""
d=$1; unit=$2
touch "$d/disarmed"
[ -s "$d/at.job" ] && atrm "$(cat "$d/at.job")" 2>/dev/null
n=0
while [ -f "$d/watch.pid" ] && kill -0 "$(cat "$d/watch.pid")" 2>/dev/null && [ $n -lt 50 ]; do
  sleep 0.2; n=$((n + 1))
done
if [ -f "$d/watch.pid" ] && kill -0 "$(cat "$d/watch.pid")" 2>/dev/null; then
  kill "$(cat "$d/watch.pid")"; sleep 0.5
fi
[ -n "$unit" ] && systemctl stop "$unit" 2>/dev/null
if [ -f "$d/watch.pid" ] && kill -0 "$(cat "$d/watch.pid")" 2>/dev/null; then echo still-armed; exit 1; fi
if [ -n "$unit" ] && systemctl is-active --quiet "$unit" 2>/dev/null; then echo still-armed; exit 1; fi
echo gone
"""

NEW_PACKAGES = r"""
d=$1
{ dpkg-query -W -f='${Package}\n' 2>/dev/null || rpm -qa --qf '%{NAME}\n' 2>/dev/null || true; } \
  | LC_ALL=C sort | LC_ALL=C comm -13 "$d/packages.before" -
"""

WATCHING = r"""d=$1; [ -f "$d/watch.pid" ] && kill -0 "$(cat "$d/watch.pid")" 2>/dev/null && echo watching; \
[ -f "$d/restored" ] && echo "restored=$(cat "$d/restored")"; exit 0"""

# The heartbeat, and whether the switch has fired meanwhile (then no fix may run after it).
BEAT = r"""d=$1; touch "$d/heartbeat" || exit 1
if [ -f "$d/restored" ]; then
  echo "restored=$(cat "$d/restored")"; echo "why=$(cat "$d/fired" 2>/dev/null)"
  head -n 50 "$d/restored-files" 2>/dev/null | sed 's/^/file=/'
fi
exit 0"""

# After a job: what it changed, and how long the archive stays for a rollback after the fact.
KEEP = r"""d=$1; until=$2; sh "$d/changed.sh" > "$d/changed" 2>/dev/null; echo "$until" > "$d/kept-until"
head -c 262144 "$d/changed"; exit 0"""

# Archives a new job may remove, once no switch watches them (a switch restores from its
# archive): past their retention; of a job that never finished, whose switch restored /etc;
# of one with neither mark whose heartbeat stopped two hours ago (the longest grace).
CLEAN = r"""top=$1; own=$2; now=$(date +%s)
for d in "$top"/*/; do
  d=${d%/}; [ "$d" = "$own" ] || [ ! -d "$d" ] && continue
  [ -f "$d/watch.pid" ] && kill -0 "$(cat "$d/watch.pid")" 2>/dev/null && continue
  if [ -f "$d/kept-until" ]; then [ "$(cat "$d/kept-until")" -lt "$now" ] 2>/dev/null || continue
  elif [ ! -f "$d/restored" ] && [ -f "$d/heartbeat" ]; then [ -n "$(find "$d/heartbeat" -mmin +120)" ] || continue; fi
  rm -rf -- "$d" && echo "removed=$d"
done; exit 0"""


@dataclass(frozen=True)
class Capabilities:
    switches: tuple[str, ...]
    tar_acls: bool

    @property
    def switch(self) -> str | None:
        return next((s for s in SWITCHES if s in self.switches), None)


@dataclass(frozen=True)
class Rollback:
    directory: str  # on the target, root-only
    switch: str
    unit: str  # the systemd unit name when the switch runs under systemd-run


class RootCommand:
    """Shell scripts run as root on the target through the open session."""

    def __init__(self, transport: Transport, sudo: Sudo) -> None:
        self.transport, self.sudo = transport, sudo

    async def run(self, script: str, *args: str, timeout: float = 120, check: bool = True) -> CommandResult:
        command, stdin = self.sudo.wrap(shell_join("sh", "-c", script, "compliance-tui", *args))
        result = await self.transport.run(command, input=stdin, timeout=timeout)
        if check and result.exit_status != 0:
            reason = result.stderr.strip().splitlines()[-1:] or [f"exit {result.exit_status}"]
            raise OperatorError(f"{self.transport.host_name}: {reason[0][:300]}")
        return result


async def capabilities(root: RootCommand) -> Capabilities:
    result = await root.run(CAPABILITIES, timeout=30)
    pairs = [line.split("=", 1) for line in result.text.splitlines() if "=" in line]
    return Capabilities(tuple(v for k, v in pairs if k == "switch"), any(k == "tar_acls" for k, _v in pairs))


def tar_options(found: Capabilities) -> str:
    return "--acls --xattrs --numeric-owner" if found.tar_acls else "--numeric-owner"


async def snapshot(root: RootCommand, job_id: str, found: Capabilities) -> str:
    """Archive /etc and write the restore and switch scripts; returns the directory."""
    directory = f"{ROLLBACK_DIR}/{job_id}"
    await root.run(SNAPSHOT, directory, tar_options(found), timeout=600)
    return directory


async def arm(root: RootCommand, directory: str, switch: str, grace: int, job_id: str) -> Rollback:
    unit = f"compliance-tui-rollback-{job_id[:8]}" if switch == "systemd-run" else ""
    await root.run(ARM[switch], directory, str(int(grace)), unit, timeout=30)
    return Rollback(directory, switch, unit)


async def heartbeat(root: RootCommand, rollback: Rollback) -> None:
    await root.run(f"touch {shell_join(rollback.directory + '/heartbeat')}", timeout=30)


async def disarm(root: RootCommand, rollback: Rollback) -> None:
    """Stop the switch and make sure it is gone; raises when it is still armed."""
    result = await root.run(DISARM, rollback.directory, rollback.unit, timeout=60, check=False)
    if "gone" not in result.text:
        raise OperatorError(f"{root.transport.host_name}: the dead man's switch is still armed "
                            f"({rollback.switch}); it will restore /etc: check {rollback.directory}")


async def restore(root: RootCommand, rollback: Rollback) -> None:
    """An explicit restore: always, even when the switch restored already."""
    await root.run(f"touch {shell_join(rollback.directory + '/disarmed')}; "
                   f"sh {shell_join(rollback.directory + '/restore.sh')} force", timeout=600)


@dataclass(frozen=True)
class Fired:
    """The switch restored /etc while its job was still running."""

    at: str
    why: str
    files: tuple[str, ...]

    def __str__(self) -> str:
        files = ", ".join(self.files[:10]) + (f" and {len(self.files) - 10} more" if len(self.files) > 10 else "")
        return (f"the dead man's switch restored /etc at {self.at} while the job ran ({self.why or 'no heartbeat'}); "
                f"restored: {files or 'no file had changed'}")


async def beat(root: RootCommand, directory: str) -> Fired | None:
    """Touch the heartbeat; the switch's restore, when it has fired meanwhile."""
    result = await root.run(BEAT, directory, timeout=30, check=False)
    if result.exit_status != 0:
        raise OperatorError(f"the heartbeat failed: {one_line(result.stderr, 200) or f'exit {result.exit_status}'}")
    pairs = [line.split("=", 1) for line in result.text.splitlines() if "=" in line]
    found = dict(pairs)
    if "restored" not in found:
        return None
    files = tuple(value.partition("\t")[2] or value for key, value in pairs if key == "file")
    return Fired(found["restored"], found.get("why", ""), files)


async def keep(root: RootCommand, directory: str, until_epoch: int) -> list[tuple[str, str]]:
    """Record what the job changed and keep the archive until then; returns (kind, path) pairs."""
    result = await root.run(KEEP, directory, str(int(until_epoch)), timeout=300, check=False)
    return parse_changed(result.text)


def parse_changed(text: str) -> list[tuple[str, str]]:
    pairs = [line.split("\t", 1) for line in text.splitlines() if "\t" in line]
    return [(kind, path) for kind, path in pairs if kind in ("changed", "deleted", "new") and path.startswith("/etc/")]


# A rollback after the fact: the files a job changed (recorded when it ended), as a diff
# against the archive, and restoring only those.
LISTED = r"""d=$1; [ -f "$d/etc.tar.gz" ] || { echo "no-archive"; exit 0; }
[ -f "$d/changed" ] || sh "$d/changed.sh" > "$d/changed" 2>/dev/null; cat "$d/changed"; exit 0"""

DIFF = r"""d=$1; opts=$2; c="$d/compare"
rm -rf "$c"; mkdir -m 700 "$c"
grep -v '^new' "$d/changed" | cut -f2 | sed 's|^/||' > "$c.list"
[ -s "$c.list" ] && tar $opts -xpzf "$d/etc.tar.gz" -C "$c" -T "$c.list" 2>/dev/null
tab=$(printf '\t')
while IFS="$tab" read -r kind p; do
  case "$kind" in
    changed) diff -u --label "$p (before the job)" --label "$p (now)" "$c$p" "$p"
             [ "$(stat -c '%A %u:%g' "$c$p" 2>/dev/null)" = "$(stat -c '%A %u:%g' "$p" 2>/dev/null)" ] ||
               echo "mode and owner of $p: $(stat -c '%A %u:%g' "$c$p") before, $(stat -c '%A %u:%g' "$p") now" ;;
    deleted) diff -u --label "$p (before the job)" --label "$p (now: gone)" "$c$p" /dev/null ;;
    new) diff -u --label "$p (before the job: none)" --label "$p (now)" /dev/null "$p" ;;
  esac
done < "$d/changed" | head -c 262144
rm -rf "$c" "$c.list"; exit 0"""

RESTORE_CHANGED = r"""d=$1; opts=$2; cd / || exit 1
grep -v '^new' "$d/changed" | cut -f2 | sed 's|^/||' > "$d/restore.list"
if [ -s "$d/restore.list" ]; then tar $opts -xpzf "$d/etc.tar.gz" -C / -T "$d/restore.list" || exit 2; fi
grep '^new' "$d/changed" | cut -f2 | while IFS= read -r p; do case "$p" in /etc/?*) rm -rf -- "$p" ;; esac; done
if [ -d /run/systemd/system ]; then systemctl try-reload-or-restart ssh sshd >/dev/null 2>&1; fi
rm -f "$d/restore.list"; echo restored"""


async def changed_files(root: RootCommand, directory: str) -> list[tuple[str, str]] | None:
    """What the job of that archive changed, or None when the archive is gone."""
    result = await root.run(LISTED, directory, timeout=300, check=False)
    return None if result.text.strip() == "no-archive" else parse_changed(result.text)


async def diff(root: RootCommand, directory: str, found: Capabilities) -> str:
    """Those files now against the archive, as a unified diff (at most 256 KiB: the target's words)."""
    result = await root.run(DIFF, directory, tar_options(found), timeout=300, check=False)
    return result.text


async def restore_changed(root: RootCommand, directory: str, found: Capabilities) -> None:
    """Put back only the files the archive's job changed (and remove those it created)."""
    result = await root.run(RESTORE_CHANGED, directory, tar_options(found), timeout=600)
    if "restored" not in result.text:
        raise OperatorError(f"{root.transport.host_name}: restoring the job's files from {directory} failed")


REMOVE_IDLE = r"""for d in "$@"; do
  case "$d" in /var/lib/compliance-tui/rollback/?*) ;; *) continue ;; esac
  if [ -f "$d/watch.pid" ] && kill -0 "$(cat "$d/watch.pid")" 2>/dev/null; then echo "watched=$d"; continue; fi
  rm -rf -- "$d" && echo "removed=$d"
done; exit 0"""


async def remove_idle(root: RootCommand, directories: list[str]) -> tuple[list[str], list[str]]:
    """Remove these archives unless a switch still watches one; (removed, still watched)."""
    result = await root.run(REMOVE_IDLE, *directories, timeout=300, check=False)
    lines = result.text.splitlines()
    return ([x.split("=", 1)[1] for x in lines if x.startswith("removed=")],
            [x.split("=", 1)[1] for x in lines if x.startswith("watched=")])


async def clean(root: RootCommand, own: str | None = None) -> list[str]:
    """Remove archives past retention and those of killed jobs; returns what went."""
    result = await root.run(CLEAN, ROLLBACK_DIR, own or "", timeout=300, check=False)
    return [line.split("=", 1)[1] for line in result.text.splitlines() if line.startswith("removed=")]


async def switch_state(root: RootCommand, rollback: Rollback) -> tuple[bool, str | None]:
    """(still watching, when it restored /etc or None)."""
    result = await root.run(WATCHING, rollback.directory, timeout=30, check=False)
    restored = next((line.split("=", 1)[1] for line in result.text.splitlines() if line.startswith("restored=")),
                    None)
    return "watching" in result.text, restored


async def new_packages(root: RootCommand, rollback: Rollback) -> list[str]:
    return await packages_since(root, rollback.directory)


async def packages_since(root: RootCommand, directory: str) -> list[str]:
    """Packages installed since the archive in directory was made (a restore of /etc leaves them)."""
    result = await root.run(NEW_PACKAGES, directory, timeout=120, check=False)
    return [line for line in result.text.splitlines() if line.strip()]


async def remove(root: RootCommand, rollback: Rollback) -> None:
    """The archive holds /etc/shadow: it goes once it is not needed."""
    if rollback.directory.startswith(ROLLBACK_DIR + "/"):
        await root.run(f"rm -rf -- {shell_join(rollback.directory)}", timeout=120, check=False)


async def wait_for_switch(open_root: Callable[[], AbstractAsyncContextManager[RootCommand]], rollback: Rollback,
                          grace: int, say: Callable[[str], None]) -> str | None:
    """After the connection died: wait for the switch to fire, then look through a fresh
    login. open_root() is an async context manager giving a RootCommand on a new connection.
    Returns when /etc was restored, or None when that could not be seen."""
    await asyncio.sleep(grace + 3)
    for _attempt in range(10):
        try:
            async with open_root() as root:
                watching, restored = await switch_state(root, rollback)
            if restored or not watching:
                return restored
        except OperatorError as exc:
            say(f"not reachable yet: {exc}")
        await asyncio.sleep(3)
    return None
