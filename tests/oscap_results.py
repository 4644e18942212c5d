"""Real oscap results for tests, produced on this machine in a few seconds.

oscap runs against a private root directory (OSCAP_PROBE_ROOT) holding a copy of /etc
that claims to be the played OS, so the benchmark's platform check matches and the
probes read that copy instead of walking the whole machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CONTENT_DIR = Path("/usr/share/xml/scap/ssg/content")
CIS_L1_SERVER = "xccdf_org.ssgproject.content_profile_cis_level1_server"

# os key (mostly the SSG product) -> (os-release, lsb-release) of the played OS
PLAYED_OS = {
    "ubuntu2204": (
        'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
        'VERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\n'
        "ID_LIKE=debian\nUBUNTU_CODENAME=jammy\n",
        "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n"
        'DISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"\n',
    ),
    "ubuntu2004": (
        'PRETTY_NAME="Ubuntu 20.04.6 LTS"\nNAME="Ubuntu"\nVERSION_ID="20.04"\n'
        'VERSION="20.04.6 LTS (Focal Fossa)"\nVERSION_CODENAME=focal\nID=ubuntu\n'
        "ID_LIKE=debian\nUBUNTU_CODENAME=focal\n",
        "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\n"
        'DISTRIB_DESCRIPTION="Ubuntu 20.04.6 LTS"\n',
    ),
    "debian12": (
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
        'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
        "",  # Debian has no lsb-release file
    ),
    "rhel9": (
        'NAME="Red Hat Enterprise Linux"\nVERSION="9.3 (Plow)"\nID="rhel"\nID_LIKE="fedora"\n'
        'VERSION_ID="9.3"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"\n'
        'ANSI_COLOR="0;31"\nLOGO="fedora-logo-icon"\nCPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"\n'
        'HOME_URL="https://www.redhat.com/"\n'
        'DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/9"\n'
        'BUG_REPORT_URL="https://bugzilla.redhat.com/"\n\n'
        'REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 9"\nREDHAT_BUGZILLA_PRODUCT_VERSION=9.3\n'
        'REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"\nREDHAT_SUPPORT_PRODUCT_VERSION="9.3"\n',
        "",
    ),
    "rocky9": (
        'NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
        'VERSION_ID="9.3"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n'
        'ANSI_COLOR="0;32"\nLOGO="fedora-logo-icon"\nCPE_NAME="cpe:/o:rocky:rocky:9::baseos"\n'
        'HOME_URL="https://rockylinux.org/"\nBUG_REPORT_URL="https://bugs.rockylinux.org/"\n'
        'SUPPORT_END="2032-05-31"\nROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"\n'
        'ROCKY_SUPPORT_PRODUCT_VERSION="9.3"\nREDHAT_SUPPORT_PRODUCT="Rocky Linux"\n'
        'REDHAT_SUPPORT_PRODUCT_VERSION="9.3"\n',
        "",
    ),
    "almalinux8": (
        'NAME="AlmaLinux"\nVERSION="8.9 (Midnight Oncilla)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n'
        'VERSION_ID="8.9"\nPLATFORM_ID="platform:el8"\nPRETTY_NAME="AlmaLinux 8.9 (Midnight Oncilla)"\n'
        'ANSI_COLOR="0;34"\nLOGO="fedora-logo-icon"\nCPE_NAME="cpe:/o:almalinux:almalinux:8::baseos"\n'
        'HOME_URL="https://almalinux.org/"\nDOCUMENTATION_URL="https://wiki.almalinux.org/"\n'
        'BUG_REPORT_URL="https://bugs.almalinux.org/"\n\n'
        'ALMALINUX_MANTISBT_PROJECT="AlmaLinux-8"\nALMALINUX_MANTISBT_PROJECT_VERSION="8.9"\n'
        'REDHAT_SUPPORT_PRODUCT="AlmaLinux"\nREDHAT_SUPPORT_PRODUCT_VERSION="8.9"\n',
        "",
    ),
    "debian11": (  # bullseye's base-files (usr/lib/os-release), without its URLs
        'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
        'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n',
        "",
    ),
    "amzn2": (
        'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n'
        'PRETTY_NAME="Amazon Linux 2"\nANSI_COLOR="0;33"\nCPE_NAME="cpe:2.3:o:amazon:amazon_linux:2"\n'
        'HOME_URL="https://amazonlinux.com/"\nSUPPORT_END="2026-06-30"\n',
        "",
    ),
    "ol9": (
        'NAME="Oracle Linux Server"\nVERSION="9.3"\nID="ol"\nID_LIKE="fedora"\nVARIANT="Server"\n'
        'VARIANT_ID="server"\nVERSION_ID="9.3"\nPLATFORM_ID="platform:el9"\n'
        'PRETTY_NAME="Oracle Linux Server 9.3"\nANSI_COLOR="0;31"\nCPE_NAME="cpe:/o:oracle:linux:9:3:server"\n'
        'HOME_URL="https://linux.oracle.com/"\nBUG_REPORT_URL="https://github.com/oracle/oracle-linux"\n\n'
        'ORACLE_BUGZILLA_PRODUCT="Oracle Linux 9"\nORACLE_BUGZILLA_PRODUCT_VERSION=9.3\n'
        'ORACLE_SUPPORT_PRODUCT="Oracle Linux"\nORACLE_SUPPORT_PRODUCT_VERSION=9.3\n',
        "",
    ),
}


# Other files of /etc that the played OS has and this machine's copy has not: Debian 12's content
# decides "this is Debian 12" from /etc/debian_version, which says 11.x on bullseye.
PLAYED_FILES = {
    "debian11": {"debian_version": "11.11\n"},  # bullseye's last point release (its base-files)
}


# A minimal server's packages, so the benchmark's package platforms (system_with_kernel,
# package_pam, ...) apply and those rules give real verdicts: "name [epoch:]version-release".
EL8_BASE = (
    "kernel 4.18.0-513.5.1.el8_9", "kernel-core 4.18.0-513.5.1.el8_9", "bash 4.4.20-4.el8_6",
    "pam 1.3.1-27.el8", "libpwquality 1.4.4-6.el8", "shadow-utils 2:4.6-19.el8", "sudo 1.9.5p2-1.el8_9",
    "systemd 239-78.el8", "chrony 4.2-1.el8", "dnf 4.7.0-20.el8", "firewalld 0.9.11-1.el8",
    "nftables 1:0.9.3-26.el8", "openssh 8.0p1-19.el8_8", "openssh-server 8.0p1-19.el8_8",
    "rsyslog 8.2102.0-15.el8", "audit 3.0.7-5.el8", "crypto-policies 20230731-1.git3177e06.el8",
    "openssl 1:1.1.1k-9.el8_7", "grub2-common 1:2.02-150.el8",
)
EL9_BASE = (
    "kernel 5.14.0-362.8.1.el9_3", "kernel-core 5.14.0-362.8.1.el9_3", "bash 5.1.8-6.el9_1",
    "pam 1.5.1-15.el9", "libpwquality 1.4.4-8.el9", "shadow-utils 2:4.9-8.el9", "sudo 1.9.5p2-9.el9",
    "systemd 252-18.el9", "chrony 4.3-1.el9", "dnf 4.14.0-8.el9", "firewalld 1.2.5-2.el9",
    "nftables 1:1.0.4-11.el9", "openssh 8.7p1-34.el9", "openssh-server 8.7p1-34.el9",
    "rsyslog 8.2102.0-117.el9", "audit 3.0.7-104.el9", "crypto-policies 20230731-1.git94f0e2c.el9_3.1",
    "openssl 1:3.0.7-24.el9", "grub2-common 1:2.06-70.el9_3.1",
)

# Amazon Linux 2: the same kind of server, with the release's own package versions (amzn2 builds)
AL2_BASE = (
    "kernel 5.10.225-213.878.amzn2", "bash 4.2.46-34.amzn2", "pam 1.1.8-23.amzn2.0.1",
    "libpwquality 1.2.3-5.amzn2", "shadow-utils 2:4.1.5.1-24.amzn2.0.3", "sudo 1.8.23-10.amzn2.3.7",
    "systemd 219-78.amzn2.0.22", "chrony 4.2-5.amzn2.0.2", "yum 3.4.3-158.amzn2.0.7",
    "iptables 1.8.4-10.amzn2.1.2", "openssh 7.4p1-22.amzn2.0.9", "openssh-server 7.4p1-22.amzn2.0.9",
    "rsyslog 8.24.0-57.amzn2.2.0.3", "audit 2.8.1-3.amzn2.1", "openssl 1:1.0.2k-24.amzn2.0.14",
    "libselinux 2.5-12.amzn2.0.2", "grub2-common 1:2.06-70.amzn2.0.2", "cronie 1.4.11-23.amzn2.0.3",
)


@dataclass(frozen=True)
class RpmRelease:
    """What an RPM-based played OS has beyond os-release: release files and installed packages."""

    release: str  # the release package the benchmark's platform check reads (rpminfo)
    files: dict[str, str]  # /etc/NAME -> contents; "->TARGET" makes a symlink
    base: tuple[str, ...] = EL9_BASE

    @property
    def packages(self) -> tuple[str, ...]:
        return (self.release, *self.base)


# os key -> release files and packages, as the real OS ships them
PLAYED_RPM = {
    "rhel9": RpmRelease("redhat-release 9.3-0.5.el9", {
        "redhat-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n",
        "system-release": "->redhat-release",
        "system-release-cpe": "cpe:/o:redhat:enterprise_linux:9::baseos\n",
    }),
    "rocky9": RpmRelease("rocky-release 9.3-1.2.el9", {
        "rocky-release": "Rocky Linux release 9.3 (Blue Onyx)\n",
        "rocky-release-upstream": "Derived from Red Hat Enterprise Linux 9.3\n",
        "redhat-release": "->rocky-release",
        "system-release": "->rocky-release",
        "system-release-cpe": "cpe:/o:rocky:rocky:9::baseos\n",
    }),
    "almalinux8": RpmRelease("almalinux-release 8.9-1.el8", {
        "almalinux-release": "AlmaLinux release 8.9 (Midnight Oncilla)\n",
        "redhat-release": "->almalinux-release",
        "system-release": "->almalinux-release",
        "system-release-cpe": "cpe:/o:almalinux:almalinux:8::baseos\n",
    }, EL8_BASE),
    "ol9": RpmRelease("oraclelinux-release 9.3-1.0.4.el9", {
        "oracle-release": "Oracle Linux Server release 9.3\n",
        "redhat-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n",  # Oracle ships this text
        "system-release": "->oracle-release",
        "system-release-cpe": "cpe:/o:oracle:linux:9:3:server\n",
    }),
    "amzn2": RpmRelease("system-release 2-17.amzn2", {
        "system-release": "Amazon Linux release 2 (Karoo)\n",
        "system-release-cpe": "cpe:2.3:o:amazon:amazon_linux:2\n",
    }, AL2_BASE),
}


PINNED_SSG = "0.1.65"  # the release many tests' rule counts come from: Debian bookworm's ssg-* packages


def installed_ssg() -> str | None:
    """The SSG release of the machine's own ssg-* packages (Ubuntu's differ from bookworm's)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "ssg-base"], capture_output=True, text=True,
                          check=False) if shutil.which("dpkg-query") else None
    return done.stdout.rpartition("-")[0] or done.stdout or None if done and done.returncode == 0 else None


def oscap_available(product: str = "ubuntu2204") -> bool:
    return shutil.which("oscap") is not None and datastream(product).is_file()


def datastream(product: str) -> Path:
    return CONTENT_DIR / f"ssg-{product}-ds.xml"


def make_probe_root(root: Path, product: str) -> Path:
    """A directory whose etc/ is this machine's /etc dressed up as the played OS."""
    os_release, lsb_release = PLAYED_OS[product]
    etc = root / "etc"
    try:
        shutil.copytree("/etc", etc, symlinks=True)
    except shutil.Error:
        pass  # unreadable files (when not root) are simply left out
    for name, text in (("os-release", os_release), ("lsb-release", lsb_release),
                       *PLAYED_FILES.get(product, {}).items()):
        target = etc / name
        if target.is_symlink() or target.exists():
            target.unlink()  # on Debian os-release is a symlink into /usr/lib
        if text:
            target.write_text(text)
    return root


def produce_results(
    workdir: Path, product: str = "ubuntu2204", profile: str = CIS_L1_SERVER
) -> tuple[Path, Path]:
    """Run a real oscap evaluation; return (ARF path, plain XCCDF results path). What its
    --progress printed, one `rule_id:result` line per rule as it was done, is kept beside them
    in progress.txt.

    Debian's oscap 1.3.7 has been seen, rarely, to deadlock (every thread in a futex wait, no
    CPU) on this evaluation that takes seconds: these are sample results, not a test of oscap,
    so a run that is not done in 3 minutes is killed and tried again (3 times at most)."""
    workdir.mkdir(parents=True, exist_ok=True)
    root = make_probe_root(workdir / "root", product)
    arf, plain = workdir / "arf.xml", workdir / "xccdf.xml"
    command = ["oscap", "xccdf", "eval", "--profile", profile, "--progress",
               "--results-arf", str(arf), "--results", str(plain), str(datastream(product))]
    for _attempt in range(3):
        try:
            proc = subprocess.run(command, env={**os.environ, "OSCAP_PROBE_ROOT": str(root)},
                                  capture_output=True, text=True, timeout=180, check=False)
            break
        except subprocess.TimeoutExpired:
            continue
    else:
        raise RuntimeError("oscap did not finish in 3 minutes, 3 times")
    if proc.returncode not in (0, 2) or not arf.is_file() or not plain.is_file():
        raise RuntimeError(f"oscap failed with exit {proc.returncode}: {proc.stderr[-2000:]}")
    (workdir / "progress.txt").write_text(proc.stdout)
    return arf, plain
