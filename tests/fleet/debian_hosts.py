"""Played hosts that run a real Debian root: its own sshd, sudo, packages and oscap.

Each host mounts, inside a mount and UTS namespace of its own, an overlay whose lower layer is
a cached root (tests/fleet/debian_roots.py, never written to) and whose upper layer lives in
the host's own directory, with /proc, /sys, /dev and a private /run, then runs the root's sshd
chrooted into it on a loopback port, under a host name of its own. Whatever a test or a Quick Fix changes (apt-get
install included) lands in the upper layer and goes with the host. What makes it a fleet
host (the scanning user with the fleet's client key and passwordless sudo, fresh host keys,
sshd's settings, resolv.conf for the mirror) is written into the upper layer before the mount.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests import procs
from tests.fleet.debian_roots import BuiltRoot
from tests.fleet.hosts import HIDDEN_TOOLS, SCAN_USER, FleetHost, _add_user

SCAN_UID = 2001


@dataclass
class DebianHost(FleetHost):
    """A FleetHost whose `root` is its overlay's upper layer: what the host changed or was given."""

    built: BuiltRoot | None = None
    directory: Path | None = None  # upper/, work/, merged/ and sshd.log

    @property
    def merged(self) -> Path:
        """The host's whole file system as it sees it, read from outside through its sshd."""
        return Path(f"/proc/{self.process.pid}/root")

    def run_inside(self, command: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run a command as root in this host: its mount namespace and its root directory."""
        return subprocess.run(
            ["nsenter", "-t", str(self.process.pid), "-m", "-r", "--", *command],
            check=False, capture_output=True, **kwargs,
        )

    def package_installed(self, package: str) -> bool:
        done = self.run_inside(["dpkg-query", "-W", "-f=${db:Status-Status}", package], text=True)
        return done.stdout.strip() == "installed"

    def oscap_processes(self) -> list[str]:
        return [f"{self.name}: pid {pid}" for pid in self.processes("oscap xccdf")]

    def kill_oscap(self) -> None:
        procs.kill(self.processes("oscap xccdf"))


def start_debian_host(name: str, built: BuiltRoot, directory: Path, port: int, client_public_key: str) -> DebianHost:
    """Prepare the host's upper layer, then start its sshd in its own namespace; wait for it."""
    if directory.exists():
        shutil.rmtree(directory)
    upper = directory / "upper"
    for part in ("upper", "work", "merged"):
        (directory / part).mkdir(parents=True)
    directory.chmod(0o755)
    host = DebianHost(name, f"debian{built.release}", port, upper, built=built, directory=directory)
    _prepare_upper(upper, built.path, name, client_public_key)
    host.process = _start(host)
    _wait_for_sshd(host)
    return host


def _wait_for_sshd(host: DebianHost, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            raise RuntimeError(f"sshd of {host.name} exited: {(host.directory / 'sshd.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", host.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd of {host.name} did not listen on port {host.port}")


def _prepare_upper(upper: Path, lower: Path, name: str, client_public_key: str) -> None:
    """Files the host has beyond the cached root, put where the overlay shows them over it."""
    etc = upper / "etc"
    (etc / "ssh").mkdir(parents=True)
    (etc / "sudoers.d").mkdir()
    for account in ("passwd", "group", "shadow"):  # copied up by hand, then the user appended
        shutil.copy2(lower / "etc" / account, etc / account)
    home = upper / "home" / SCAN_USER
    _add_user(etc, SCAN_USER, SCAN_UID, Path("/home") / SCAN_USER, "*")
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text(client_public_key)
    for path in (home, home / ".ssh", home / ".ssh" / "authorized_keys"):
        os.chown(path, SCAN_UID, SCAN_UID)
    home.chmod(0o755)
    (home / ".ssh").chmod(0o700)
    (upper / "home").chmod(0o755)
    (etc / "sudoers.d" / SCAN_USER).write_text(f"{SCAN_USER} ALL=(ALL) NOPASSWD: ALL\n")
    (etc / "sudoers.d" / SCAN_USER).chmod(0o440)
    (etc / "hostname").write_text(name + "\n")
    (etc / "hosts").write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n::1\tlocalhost ip6-localhost\n")
    # the machine's resolver, so apt in a Quick Fix reaches the mirror (the network is the machine's)
    (etc / "resolv.conf").write_text(Path("/etc/resolv.conf").read_text())
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                    str(etc / "ssh" / "ssh_host_ed25519_key")], check=True)
    # ChallengeResponseAuthentication, not KbdInteractiveAuthentication: bullseye's OpenSSH 8.4
    # does not know the newer name, and the newer ones still take the old one
    (etc / "ssh" / "sshd_config").write_text(
        "HostKey /etc/ssh/ssh_host_ed25519_key\n"
        "PasswordAuthentication no\nChallengeResponseAuthentication no\n"
        "PubkeyAuthentication yes\nUsePAM no\nStrictModes yes\n"
        "PidFile none\nLogLevel ERROR\nMaxStartups 50\nMaxSessions 50\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
    )


def _start(host: DebianHost) -> subprocess.Popen:
    directory, lower = host.directory, host.built.path
    merged = directory / "merged"
    # A restore launched through the real machine's systemd or atd would run outside the host. The
    # private /run keeps systemd's sockets out of reach, and an at job would land in the overlay's
    # spool, which the machine's atd never reads; those tools the root has are hidden besides
    # (hosts.py does the same), so hardening takes its setsid switch, inside the host.
    hidden = " ".join(f"[ -e {merged}{tool} ] && mount --bind /dev/null {merged}{tool};" for tool in HIDDEN_TOOLS)
    script = (
        f"set -e; hostname {host.name}; "  # its own UTS namespace: sudo resolves its own name
        f"mount -t overlay overlay -o lowerdir={lower},upperdir={directory}/upper,workdir={directory}/work {merged}; "
        f"mount -t proc proc {merged}/proc; mount -t sysfs sysfs {merged}/sys; "
        f"mount --rbind /dev {merged}/dev; "
        f"mount -t tmpfs -o mode=755 tmpfs {merged}/run; mkdir -p {merged}/run/sshd {merged}/run/lock; "
        f"{hidden} "
        f"exec chroot {merged} /usr/sbin/sshd -D -e -p {host.port} -o ListenAddress=127.0.0.1"
    )
    with open(directory / "sshd.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            ["unshare", "-m", "-u", "--propagation", "private", "sh", "-c", script],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
