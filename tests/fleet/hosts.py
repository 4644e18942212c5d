"""The test fleet: real sshd, sudo and oscap, one mount namespace per played host.

Each host gets a root directory R with its own copy of /etc (the played OS's
os-release, a scanning user, fresh host keys; for RPM-based OSes their release
files and an RPM database) and, inside its namespace, R/etc
bind-mounted over /etc and a wrapper over /usr/bin/oscap that points the
probes at R. Logins then see the played OS and scans take seconds. Needs root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests import procs
from tests.oscap_results import PLAYED_FILES, PLAYED_OS, PLAYED_RPM, RpmRelease

SCAN_USER = "scanner"
HIDDEN_TOOLS = ("/usr/bin/systemd-run", "/usr/bin/systemctl", "/bin/systemctl", "/usr/bin/at",
                "/usr/bin/atq", "/usr/bin/atrm")
STATE_DIR = "/var/lib/compliance-tui"
PASSWORD_USER = "needpw"  # sudo asks this one for a password
SUDO_PASSWORD = "fleet-sudo-secret"


@dataclass
class FleetHost:
    name: str
    os_key: str
    port: int
    root: Path
    # "no-oscap"; "pam": sshd uses PAM; "fix-control": tests can hold or fail a fix (see below)
    options: set[str] = field(default_factory=set)
    process: subprocess.Popen | None = None

    @property
    def host_public_key(self) -> str:
        return (self.root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[1]

    def known_hosts_line(self) -> str:
        key = (self.root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {key[0]} {key[1]}\n"

    @property
    def home(self) -> Path:
        return self.root / "home" / SCAN_USER

    def run_inside(self, command: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run a command as root inside this host's namespace (for tests' own checks)."""
        return subprocess.run(
            ["nsenter", "-t", str(self.process.pid), "-m", "--", *command],
            check=False, capture_output=True, **kwargs,
        )

    def control_fix(self, name: str, action: str | None) -> None:
        """With "fix-control": the fix script named name (e.g. fix-2.sh) waits while action is
        "hold", or exits 3 at once with "fail"; None lets every fix run again."""
        control = self.root / "fix-control"
        control.write_text(f"{action} {name}\n" if action else "")

    def processes(self, needle: str) -> list[int]:
        """This host's processes (its own mount namespace) whose command line holds needle."""
        return procs.in_namespace_of(self.process.pid, needle)

    def oscap_processes(self) -> list[str]:
        """This host's running oscap processes: pid, state, kernel wait channel, age."""
        lines = []
        for pid in self.processes(f"{self.root}/oscap.real"):
            ps = subprocess.run(["ps", "-o", "pid=,stat=,wchan:32=,etime=", "-p", str(pid)],
                                capture_output=True, text=True).stdout.strip()
            try:
                stack = Path(f"/proc/{pid}/stack").read_text().splitlines()[:3]
            except OSError:
                stack = []
            lines.append(f"{self.name}: {ps} {' | '.join(stack)}")
        return lines

    def kill_oscap(self) -> None:
        """End oscap runs a failed test left behind, so they cannot spill into the next test."""
        procs.kill(self.processes(f"{self.root}/oscap.real"))

    def kill_sessions(self) -> None:
        """Drop every open SSH connection of this host (the listener keeps running)."""
        subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=False)


class Fleet:
    def __init__(self, base: Path, client_key: Path):
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        for directory in (base.parent, base):  # the played users' homes live below: keep it traversable
            directory.chmod(directory.stat().st_mode | 0o755)
        self.client_key = client_key
        self.hosts: dict[str, FleetHost] = {}

    def known_hosts(self, names: list[str] | None = None) -> str:
        chosen = names or list(self.hosts)
        return "".join(self.hosts[n].known_hosts_line() for n in chosen)

    def add(self, name: str, os_key: str, port: int, options: set[str] | None = None) -> FleetHost:
        host = FleetHost(name, os_key, port, self.base / name, options or set())
        _build_root(host, self.client_key.with_suffix(".pub").read_text())
        host.process = _start_sshd(host)
        _wait_for_port(port, host)
        self.hosts[name] = host
        return host

    def stop(self) -> None:
        for host in self.hosts.values():
            if host.process and host.process.poll() is None:
                os.killpg(host.process.pid, signal.SIGTERM)
                try:
                    host.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(host.process.pid, signal.SIGKILL)


def make_client_key(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def _build_root(host: FleetHost, authorized_key: str) -> None:
    root = host.root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    subprocess.run(["cp", "-a", "/etc", str(root / "etc")], check=True)
    etc = root / "etc"
    os_release, lsb_release = PLAYED_OS[host.os_key]
    (etc / "os-release").unlink(missing_ok=True)  # a symlink into /usr/lib on Debian
    (etc / "os-release").write_text(os_release)
    (etc / "lsb-release").unlink(missing_ok=True)
    if lsb_release:
        (etc / "lsb-release").write_text(lsb_release)
    (etc / "hostname").write_text(host.name + "\n")
    for name, text in PLAYED_FILES.get(host.os_key, {}).items():
        (etc / name).unlink(missing_ok=True)
        (etc / name).write_text(text)
    if host.os_key in PLAYED_RPM:
        _play_rpm(root, PLAYED_RPM[host.os_key])
    else:
        # probes read the played OS's package database through R (the status file is the database)
        (root / "var/lib/dpkg").mkdir(parents=True)
        shutil.copy2("/var/lib/dpkg/status", root / "var/lib/dpkg/status")

    password_hash = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=SUDO_PASSWORD, check=True,
                                   capture_output=True, text=True).stdout.strip()  # never in argv
    for user, uid, sudo_rule, shadow in (
        (SCAN_USER, 2001, "NOPASSWD: ALL", "*"),
        (PASSWORD_USER, 2002, "ALL", password_hash),
    ):
        home = root / "home" / user
        _add_user(etc, user, uid, home, shadow)
        ssh_dir = home / ".ssh"
        ssh_dir.mkdir(parents=True)
        (ssh_dir / "authorized_keys").write_text(authorized_key)
        for path in (home, ssh_dir, ssh_dir / "authorized_keys"):
            os.chown(path, uid, uid)
        home.chmod(0o755)
        ssh_dir.chmod(0o700)
        (etc / "sudoers.d" / user).write_text(f"{user} ALL=(ALL) {sudo_rule}\n")
        (etc / "sudoers.d" / user).chmod(0o440)

    ssh = etc / "ssh"
    for key in ssh.glob("ssh_host_*"):
        key.unlink()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(ssh / "ssh_host_ed25519_key")], check=True)
    (ssh / "sshd_config").write_text(
        "HostKey /etc/ssh/ssh_host_ed25519_key\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"PubkeyAuthentication yes\nUsePAM {'yes' if 'pam' in host.options else 'no'}\nStrictModes yes\n"
        "PidFile none\nLogLevel ERROR\nMaxStartups 50\nMaxSessions 50\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
        f"SetEnv TMPDIR={root}/tmp\n"  # /tmp is shared with the machine; each host gets its own
    )
    (root / "tmp").mkdir(mode=0o1777)
    (root / "tmp").chmod(0o1777)
    (root / "var/lib/compliance-tui").mkdir(parents=True, mode=0o700)  # hardening's /etc archives

    # oscap with its probes confined to R: real results in seconds, not minutes
    shutil.copy2("/usr/bin/oscap", root / "oscap.real")
    wrapper = root / "oscap-wrapper"
    wrapper.write_text(f'#!/bin/sh\nOSCAP_PROBE_ROOT={root} exec {root}/oscap.real "$@"\n')
    wrapper.chmod(0o755)


def _play_rpm(root: Path, played: RpmRelease) -> None:
    """Release files, and an RPM database under R holding the played OS's packages.

    oscap's rpminfo probe opens OSCAP_PROBE_ROOT + %_dbpath. Debian's librpm sets %_dbpath
    to ~/.rpmdb through a shell expansion that fails inside the probe, so R/etc/rpm (the
    /etc librpm reads inside the host's namespace) pins it to /var/lib/rpm, where RHEL
    8 and 9 keep it (Fedora 36+ moved it to /usr/lib/sysimage/rpm).
    """
    etc = root / "etc"
    (etc / "debian_version").unlink(missing_ok=True)
    for name, text in played.files.items():
        (etc / name).unlink(missing_ok=True)
        if text.startswith("->"):
            (etc / name).symlink_to(text[2:])
        else:
            (etc / name).write_text(text)
    (etc / "rpm").mkdir(exist_ok=True)
    (etc / "rpm" / "macros.dbpath").write_text("%_dbpath /var/lib/rpm\n")
    with tempfile.TemporaryDirectory(dir=root) as work:
        packages = _build_rpms(Path(work), played.packages)
        rpm = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm"]
        subprocess.run([*rpm, "--initdb"], check=True, capture_output=True)
        subprocess.run([*rpm, "-i", "--justdb", "--nodeps", "--noscripts", *map(str, packages)],
                       check=True, capture_output=True)


def _build_rpms(work: Path, packages: tuple[str, ...]) -> list[Path]:
    """Tiny noarch packages without files, from one spec: only their headers matter to the probes."""
    spec = ["License: MIT", "BuildArch: noarch"]
    for index, package in enumerate(packages):
        name, _, evr = package.partition(" ")
        epoch, _, version_release = evr.rpartition(":")
        version, _, release = version_release.partition("-")
        spec += [f"Name: {name}" if index == 0 else f"%package -n {name}",
                 f"Version: {version}", f"Release: {release}", f"Summary: played {name}"]
        spec += [f"Epoch: {epoch}"] if epoch else []
        spec += [f"%description -n {name}", "A package of the test fleet."]
    spec += [f"%files -n {package.partition(' ')[0]}" for package in packages]
    (work / "played.spec").write_text("\n".join(spec) + "\n")
    subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {work}/top",
                    "--define", f"_rpmdir {work}/out", str(work / "played.spec")], check=True, capture_output=True)
    return sorted((work / "out" / "noarch").glob("*.rpm"))


def _add_user(etc: Path, user: str, uid: int, home: Path, shadow: str) -> None:
    with open(etc / "passwd", "a") as f:
        f.write(f"{user}:x:{uid}:{uid}::{home}:/bin/bash\n")
    with open(etc / "group", "a") as f:
        f.write(f"{user}:x:{uid}:\n")
    with open(etc / "shadow", "a") as f:
        f.write(f"{user}:{shadow}:19000:0:99999:7:::\n")


def _start_sshd(host: FleetHost) -> subprocess.Popen:
    Path("/run/sshd").mkdir(exist_ok=True)
    root = host.root
    oscap_mount = (
        "mount --bind /dev/null /usr/bin/oscap"  # command -v finds nothing executable
        if "no-oscap" in host.options
        else f"mount --bind {root}/oscap-wrapper /usr/bin/oscap"
    )
    if "fix-control" in host.options:  # bash through a wrapper that reads R/fix-control
        shutil.copy2("/usr/bin/bash", root / "bash.real")
        (root / "fix-control").write_text("")
        wrapper = root / "bash-wrapper"
        wrapper.write_text(
            "#!/bin/sh\n"
            f"read -r action name < {root}/fix-control 2>/dev/null\n"
            'case "$1" in */"$name") '
            f'  if [ "$action" = fail ]; then echo "fix failed on purpose" >&2; exit 3; fi\n'
            f'  while [ "$action" = hold ]; do sleep 0.1; read -r action name < {root}/fix-control; done ;;\n'
            "esac\n"
            f'exec {root}/bash.real "$@"\n')
        wrapper.chmod(0o755)
        oscap_mount += f"; mount --bind {root}/bash-wrapper /usr/bin/bash"
    # A restore launched through the real machine's systemd or atd would run outside this
    # namespace and touch the real /etc: inside it, those tools (and systemctl, which fixes
    # and restores call) are not executable, so hardening falls back to its setsid switch.
    hidden = " ".join(f"[ -e {tool} ] && mount --bind /dev/null {tool};" for tool in HIDDEN_TOOLS)
    # An autofs trigger (systemd's /proc/sys/fs/binfmt_misc on a VM) fired from this private
    # namespace can hang the probe that stats it (partition, sysctl) for good: drop them here.
    autofs = ("awk '$3 == \"autofs\" {print $2}' /proc/self/mounts | "
              "while read -r m; do umount -l \"$m\" 2>/dev/null || true; done;")
    # Hardening keeps /etc archives in /var/lib/compliance-tui: each host its own, as a real one.
    state = f"mkdir -p {STATE_DIR}; mount --bind {root}{STATE_DIR} {STATE_DIR};"
    script = (
        f"set -e; {autofs} mount --bind {root}/etc /etc; {state} {oscap_mount}; {hidden} "
        f"exec /usr/sbin/sshd -D -e -p {host.port} -o ListenAddress=127.0.0.1"
    )
    with open(root / "sshd.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def _wait_for_port(port: int, host: FleetHost, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            raise RuntimeError(f"sshd for {host.name} exited: {(host.root / 'sshd.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd for {host.name} did not listen on port {port}")
