"""Real oscap results for tests, produced on this machine in a few seconds.

oscap runs against a private root directory (OSCAP_PROBE_ROOT) holding a copy of /etc
that claims to be the played OS, so the benchmark's platform check matches and the
probes read that copy instead of walking the whole machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CONTENT_DIR = Path("/usr/share/xml/scap/ssg/content")
CIS_L1_SERVER = "xccdf_org.ssgproject.content_profile_cis_level1_server"

# product -> (os-release, lsb-release) of the played OS
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
}


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
    for name, text in (("os-release", os_release), ("lsb-release", lsb_release)):
        target = etc / name
        if target.is_symlink() or target.exists():
            target.unlink()  # on Debian os-release is a symlink into /usr/lib
        target.write_text(text)
    return root


def produce_results(
    workdir: Path, product: str = "ubuntu2204", profile: str = CIS_L1_SERVER
) -> tuple[Path, Path]:
    """Run a real oscap evaluation; return (ARF path, plain XCCDF results path)."""
    workdir.mkdir(parents=True, exist_ok=True)
    root = make_probe_root(workdir / "root", product)
    arf, plain = workdir / "arf.xml", workdir / "xccdf.xml"
    proc = subprocess.run(
        ["oscap", "xccdf", "eval", "--profile", profile,
         "--results-arf", str(arf), "--results", str(plain), str(datastream(product))],
        env={**os.environ, "OSCAP_PROBE_ROOT": str(root)},
        capture_output=True, text=True, timeout=600, check=False,
    )
    if proc.returncode not in (0, 2) or not arf.is_file() or not plain.is_file():
        raise RuntimeError(f"oscap failed with exit {proc.returncode}: {proc.stderr[-2000:]}")
    return arf, plain
