"""scap_content/fetch-debian-ssg.sh on machines of other kinds: an Ubuntu controller, whose apt
sources name no Debian mirror, and one where the operator gives a mirror. Nothing is fetched:
FETCH_SSG_DRY_RUN stops before the network, FETCH_SSG_APT_ETC plays the machine's apt sources."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scap_content" / "fetch-debian-ssg.sh"
UBUNTU_SOURCES = """\
Types: deb
URIs: http://mirror.invalid/ubuntu/
Suites: noble noble-updates noble-backports
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/ubuntu-security/
Suites: noble-security
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg
"""
JAMMY_LIST = "deb http://mirror.invalid/ubuntu/ jammy main restricted universe\n" \
             "deb http://mirror.invalid/ubuntu jammy-security main\n"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")


def run(tmp_path: Path, apt: dict[str, str], *suites: str, mirror: str = "") -> subprocess.CompletedProcess:
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True, exist_ok=True)
    for name, text in apt.items():
        (etc / name).write_text(text)
    env = os.environ | {"FETCH_SSG_APT_ETC": str(etc), "FETCH_SSG_DRY_RUN": "1", "DEBIAN_MIRROR": mirror}
    return subprocess.run(["bash", str(SCRIPT), str(tmp_path / "content"), *suites], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("apt", [{"sources.list.d/ubuntu.sources": UBUNTU_SOURCES}, {"sources.list": JAMMY_LIST}],
                         ids=["noble-deb822", "jammy-one-line"])
def test_ubuntu_sources_without_a_mirror_say_how_to_get_content(tmp_path, apt):
    done = run(tmp_path, apt)
    assert done.returncode == 2  # the Makefile lets `make run` and `make test` go on
    assert "no Debian mirror" in done.stderr and "DEBIAN_MIRROR=" in done.stderr
    assert "compliance-tui content import PATH" in done.stderr and "release zip" in done.stderr
    assert not (tmp_path / "content").exists()


@pytest.mark.skipif(not KEYRING.is_file(), reason="no debian-archive-keyring here")
def test_a_given_mirror_is_used_on_ubuntu(tmp_path):
    done = run(tmp_path, {"sources.list.d/ubuntu.sources": UBUNTU_SOURCES}, "bookworm", "sid",
               mirror="http://mirror.example.invalid/debian")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"would fetch bookworm from http://mirror.example.invalid/debian into {tmp_path}/content/debian-bookworm" \
        in lines and any(line.startswith("would fetch sid ") for line in lines)


@pytest.mark.skipif(not KEYRING.is_file(), reason="no debian-archive-keyring here")
def test_debian_sources_give_the_mirror(tmp_path):
    debian = "deb http://deb.example.invalid/debian bookworm main\ndeb http://security.example.invalid/debian-security bookworm-security main\n"
    done = run(tmp_path, {"sources.list": debian}, "trixie")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"would fetch trixie from http://deb.example.invalid/debian into {tmp_path}/content/debian-trixie"


def test_a_mirror_that_is_not_a_url_is_refused(tmp_path):
    done = run(tmp_path, {}, mirror="deb.example.invalid; rm -rf /")
    assert done.returncode == 1 and "must be an http(s)://" in done.stderr
