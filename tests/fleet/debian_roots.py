"""Real Debian root filesystems for the test fleet, built once with mmdebstrap and cached.

A root is a minimal Debian release plus openssh-server, sudo and that release's own
openscap-scanner, fetched from the Debian mirror this machine's apt already uses (read from
its sources, never written here). Roots are cached under CACHE_DIR, keyed by release, package
list and mirror, and shared read-only by every test run: played hosts mount one as the lower
layer of an overlay of their own (tests/fleet/debian_hosts.py). Several xdist workers and
other runs may ask for the same root at once: one builds it into a temporary directory beside
the cache under an fcntl lock and renames it in place, so a half-built root is never seen.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CACHE_DIR = Path(os.environ.get("COMPLIANCE_TUI_FLEET_CACHE", "/var/cache/compliance-tui-fleet"))
# linux-base stands for a server's kernel (CIS content's system_with_kernel platform looks for it):
# without it every rule of a kernel-bound group (aide, cron, logging, time) is notapplicable
BASE_PACKAGES = ("openssh-server", "sudo", "linux-base")
# The package that holds the release's own oscap. Bullseye has none: openscap left testing before
# the release, so neither openscap-scanner nor libopenscap8 is in bullseye's main (checked on the
# machine's mirror, Dec 2026), and bullseye-backports has left the mirror for the archive. Its
# root is built without one: a real Debian 11 as an operator finds it.
OSCAP_PACKAGE: dict[str, str | None] = {"11": None, "12": "openscap-scanner", "13": "openscap-scanner"}
NO_OSCAP = ("Debian 11 (bullseye) ships no openscap package (neither openscap-scanner nor libopenscap8 is in "
            "bullseye's main on the mirror): it has no oscap of its own to run")
FORMAT = 1  # bump when what a build puts into the root changes
SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
# Debian release number -> suite: the releases the fleet plays with their own packages
RELEASES = {"11": "bullseye", "12": "bookworm", "13": "trixie"}


class RootUnavailable(Exception):
    """No root for this release here (no mirror, no mmdebstrap, the build failed): the reason."""


@dataclass(frozen=True)
class BuiltRoot:
    release: str  # "12"
    suite: str  # "bookworm"
    path: Path  # the cached root: never written to once built
    oscap_version: str | None  # of the release's own oscap, e.g. "1.3.7"; None: the release has none
    seconds: float  # what getting it took now: a cold build, or a look into the cache


def debian_mirror(sources: tuple[Path, ...] = SOURCES) -> str | None:
    """The URI this machine's apt fetches Debian's main archive from (not its security archive)."""
    for source in sources:
        files = sorted(source.glob("*.sources")) + sorted(source.glob("*.list")) if source.is_dir() else [source]
        for path in files:
            try:
                text = path.read_text()
            except OSError:
                continue
            found = _deb822_mirror(text) if path.suffix == ".sources" else _one_line_mirror(text)
            if found:
                return found
    return None


def _deb822_mirror(text: str) -> str | None:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line and not line.startswith("#") and ":" in line:
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
        suites = fields.get("suites", "").split()
        if ("deb" in fields.get("types", "").split() and fields.get("uris")
                and any(s in RELEASES.values() for s in suites)):
            return fields["uris"].split()[0]
    return None


def _one_line_mirror(text: str) -> str | None:
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
        if len(words) >= 3 and words[0] == "deb" and words[2] in RELEASES.values():
            return words[1]
    return None


def cache_key(suite: str, packages: tuple[str, ...], mirror: str) -> str:
    described = json.dumps([FORMAT, suite, sorted(packages), mirror])
    return f"{suite}-{hashlib.sha256(described.encode()).hexdigest()[:12]}"


def packages_of(release: str) -> tuple[str, ...]:
    oscap = OSCAP_PACKAGE[release]
    return (*BASE_PACKAGES, oscap) if oscap else BASE_PACKAGES


def root_for(release: str, cache: Path = CACHE_DIR) -> BuiltRoot:
    """The cached root of Debian `release` ("11", "12", "13"), built first if it is not there."""
    started = time.monotonic()
    suite, packages = RELEASES[release], packages_of(release)
    mirror = debian_mirror()
    if mirror is None:
        raise RootUnavailable("no Debian mirror in this machine's apt sources (/etc/apt/sources.list*)")
    if shutil.which("mmdebstrap") is None:
        raise RootUnavailable("mmdebstrap is missing: run `make test`, which installs the test fleet's packages")
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    key = cache_key(suite, packages, mirror)
    final = cache / key
    with open(cache / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per key; the others wait and then reuse
        if not final.is_dir():
            for stale in cache.glob(f".building-{key}-*"):  # a build killed midway (we hold its lock)
                shutil.rmtree(stale, ignore_errors=True)
            building = Path(tempfile.mkdtemp(prefix=f".building-{key}-", dir=cache))
            try:
                _build(building, suite, packages, mirror)
            except RootUnavailable:
                shutil.rmtree(building, ignore_errors=True)
                raise
            building.chmod(0o755)
            os.rename(building, final)  # atomic: the root appears whole or not at all
    oscap = OSCAP_PACKAGE[release]
    return BuiltRoot(release, suite, final, oscap and oscap_version(final, oscap), time.monotonic() - started)


def _build(target: Path, suite: str, packages: tuple[str, ...], mirror: str) -> None:
    command = [
        "mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(packages)}",
        "--aptopt=APT::Install-Recommends \"false\"",
        "--skip=cleanup/apt/lists",  # a Quick Fix installs from the mirror without an apt-get update
        # no service starts inside a played root (no init runs there), now or when a fix installs one
        "--customize-hook=printf '#!/bin/sh\\nexit 101\\n' > \"$1/usr/sbin/policy-rc.d\"; "
        "chmod 755 \"$1/usr/sbin/policy-rc.d\"",
        "--customize-hook=rm -f \"$1\"/etc/ssh/ssh_host_*",  # every played host makes its own
        suite, str(target), f"deb {mirror} {suite} main",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    except subprocess.TimeoutExpired:
        raise RootUnavailable(f"mmdebstrap of {suite} did not finish in 30 minutes") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        tail = " | ".join(([line for line in lines if line.startswith("E:")] or lines)[:2])
        raise RootUnavailable(f"mmdebstrap of {suite} from {mirror} failed (exit {done.returncode}): {tail}")


def oscap_version(root: Path, package: str) -> str:
    """The version of the root's own oscap, from its package database."""
    status = (root / "var/lib/dpkg/status").read_text()
    match = re.search(rf"^Package: {re.escape(package)}\n(?:[^\n]+\n)*?Version: (?:\d+:)?([\d.]+)", status, re.M)
    return match[1] if match else "unknown"
